import CZstd

/// One-shot zstd compression of the reference texts stored in the index.
enum TextCodec {
    static func compress(_ bytes: ArraySlice<UInt8>, level: Int32 = 3) -> [UInt8] {
        let bound = ZSTD_compressBound(bytes.count)
        var output = [UInt8](repeating: 0, count: bound)
        let written = output.withUnsafeMutableBytes { destination in
            bytes.withUnsafeBytes { source in
                ZSTD_compress(destination.baseAddress, bound, source.baseAddress, source.count, level)
            }
        }
        precondition(ZSTD_isError(written) == 0, "zstd compression cannot fail with a bound-sized buffer")
        output.removeSubrange(written...)
        return output
    }

    /// Decompresses one stored text; nil when the bytes do not decode to `length` bytes.
    static func decompress(_ compressed: UnsafeRawBufferPointer, length: Int) -> [UInt8]? {
        var output = [UInt8](repeating: 0, count: length)
        let written = output.withUnsafeMutableBytes { destination in
            ZSTD_decompress(destination.baseAddress, length, compressed.baseAddress, compressed.count)
        }
        guard ZSTD_isError(written) == 0, written == length else { return nil }
        return output
    }
}
