import CZstd

/// The zstd frames of the reference texts stored in the index, one per text for random access,
/// all compressed with one dictionary that the build trains on a sample of the texts (a text of
/// a few hundred words alone leaves zstd little to learn from: the dictionary took the texts of
/// `../shared/data/reference` from 0.49 to about 0.38 of their size with the zstd tool).
enum TextCodec {
    static let maximumBlockBytes = 128 * 1024
    static let level: Int32 = 3
    /// The dictionary's size at most, and the sample's: zstd's advice is a sample of about 100
    /// times the dictionary.
    static let dictionaryBytes = 112_640
    static let sampleBytes = 100 * dictionaryBytes

    /// A trained dictionary, digested once for compression and for decompression.
    final class Dictionary: @unchecked Sendable {
        let bytes: [UInt8]
        private let compression: OpaquePointer
        private let decompression: OpaquePointer

        /// Nil when zstd does not take `bytes` as a dictionary.
        init?(_ bytes: [UInt8]) {
            guard !bytes.isEmpty,
                  let compression = bytes.withUnsafeBytes({ ZSTD_createCDict($0.baseAddress, $0.count, TextCodec.level) }) else { return nil }
            guard let decompression = bytes.withUnsafeBytes({ ZSTD_createDDict($0.baseAddress, $0.count) }) else {
                ZSTD_freeCDict(compression)
                return nil
            }
            self.bytes = bytes
            self.compression = compression
            self.decompression = decompression
        }

        deinit {
            ZSTD_freeCDict(compression)
            ZSTD_freeDDict(decompression)
        }

        func compress(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer, context: OpaquePointer) -> Int {
            ZSTD_compress_usingCDict(context, destination.baseAddress, destination.count, source.baseAddress, source.count, compression)
        }

        func decompress(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer, context: OpaquePointer) -> Int {
            ZSTD_decompress_usingDDict(context, destination.baseAddress, destination.count, source.baseAddress, source.count, decompression)
        }
    }

    /// A dictionary trained on `samples` (zstd's fastCover with fixed segment and d-mer sizes, one
    /// pass and single-threaded: the same samples give the same bytes), of at most a hundredth of
    /// their size; nil when they are too few to train on.
    static func trainDictionary(samples: [UnsafeRawBufferPointer]) -> Dictionary? {
        let total = samples.reduce(0) { $0 + $1.count }
        let capacity = min(dictionaryBytes, total / 100)
        guard capacity >= 1024, samples.count >= 8 else { return nil }
        var flat: [UInt8] = []
        flat.reserveCapacity(total)
        for sample in samples { flat.append(contentsOf: sample) }
        var sizes = samples.map(\.count)
        var dictionary = [UInt8](repeating: 0, count: capacity)
        var parameters = ZDICT_fastCover_params_t()
        parameters.k = 200
        parameters.d = 8
        parameters.f = 20
        parameters.accel = 1
        parameters.zParams.compressionLevel = level
        let written = dictionary.withUnsafeMutableBytes { out in
            flat.withUnsafeBytes {
                ZDICT_trainFromBuffer_fastCover(out.baseAddress, capacity, $0.baseAddress, &sizes, UInt32(sizes.count), parameters)
            }
        }
        guard ZDICT_isError(written) == 0 else { return nil }
        return Dictionary(Array(dictionary.prefix(written)))
    }

    /// One text as a zstd frame (with the dictionary when there is one); `context` is the
    /// caller's compression context, reused across texts.
    static func compress(_ bytes: UnsafeRawBufferPointer, dictionary: Dictionary?, context: Context) -> [UInt8] {
        precondition(context.direction == .compression, "a decompression context given to compress")
        let context = context.pointer
        let bound = ZSTD_compressBound(bytes.count)
        var output = [UInt8](repeating: 0, count: bound)
        let written = output.withUnsafeMutableBytes { destination in
            dictionary.map { $0.compress(bytes, into: destination, context: context) }
                ?? ZSTD_compressCCtx(context, destination.baseAddress, bound, bytes.baseAddress, bytes.count, level)
        }
        precondition(ZSTD_isError(written) == 0, "zstd compression cannot fail with a bound-sized buffer")
        output.removeSubrange(written...)
        return output
    }

    /// Decompresses one stored text; nil when the bytes do not decode to `length` bytes. The
    /// output is allocated only for a length that the frame declares and that its bytes can hold
    /// (a zstd block of 4 bytes, an RLE block, decodes to at most 128 KiB), so that a crafted
    /// index cannot make a scan allocate gigabytes for a few bytes of text.
    /// `context` is the caller's decompression context, reused across texts (creating one took
    /// 7% of an index build's samples when each text made its own).
    static func decompress(_ compressed: UnsafeRawBufferPointer, length: Int, dictionary: Dictionary?,
                           context: Context) -> [UInt8]? {
        precondition(context.direction == .decompression, "a compression context given to decompress")
        guard length <= compressed.count * (maximumBlockBytes / 4),
              ZSTD_getFrameContentSize(compressed.baseAddress, compressed.count) == UInt64(length) else { return nil }
        var output = [UInt8](repeating: 0, count: length)
        let written = output.withUnsafeMutableBytes { destination in
            dictionary.map { $0.decompress(compressed, into: destination, context: context.pointer) }
                ?? ZSTD_decompressDCtx(context.pointer, destination.baseAddress, length, compressed.baseAddress, compressed.count)
        }
        guard ZSTD_isError(written) == 0, written == length else { return nil }
        return output
    }

    /// A zstd context for one thread's texts, reused across them: a compression or a
    /// decompression context.
    final class Context: @unchecked Sendable {
        enum Direction { case compression, decompression }
        let pointer: OpaquePointer
        let direction: Direction

        init(_ direction: Direction) {
            guard let context = direction == .compression ? ZSTD_createCCtx() : ZSTD_createDCtx() else {
                fatalError("out of memory for a zstd context")
            }
            pointer = context
            self.direction = direction
        }

        deinit {
            switch direction {
            case .compression: ZSTD_freeCCtx(pointer)
            case .decompression: ZSTD_freeDCtx(pointer)
            }
        }
    }
}
