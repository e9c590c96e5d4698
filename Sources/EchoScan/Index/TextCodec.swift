import CZstd

/// One-shot zstd compression of the reference texts stored in the index.
enum TextCodec {
    static let maximumBlockBytes = 128 * 1024

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

    /// Decompresses one stored text; nil when the bytes do not decode to `length` bytes. The
    /// output is allocated only for a length that the frame declares and that its bytes can hold
    /// (a zstd block of 4 bytes, an RLE block, decodes to at most 128 KiB), so that a crafted
    /// index cannot make a scan allocate gigabytes for a few bytes of text.
    static func decompress(_ compressed: UnsafeRawBufferPointer, length: Int) -> [UInt8]? {
        guard length <= compressed.count * (maximumBlockBytes / 4),
              ZSTD_getFrameContentSize(compressed.baseAddress, compressed.count) == UInt64(length) else { return nil }
        var output = [UInt8](repeating: 0, count: length)
        let written = output.withUnsafeMutableBytes { destination in
            ZSTD_decompress(destination.baseAddress, length, compressed.baseAddress, compressed.count)
        }
        guard ZSTD_isError(written) == 0, written == length else { return nil }
        return output
    }
}
