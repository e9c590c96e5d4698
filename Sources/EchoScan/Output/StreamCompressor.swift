import CLZ4
import CZlib
import CZstd

/// Compresses a stream into an output file's sink with the compression its name asks for: the
/// attribute files mirror their documents' compression (`.zst`, `.gz`, `.lz4`), as Dolma's mixer
/// expects. One compressor per kind of frame, through the C libraries that read them.
final class StreamCompressor {
    enum Kind {
        case none, zstd, gzip, lz4

        init(path: String) {
            switch ShardFormat.claimed(byPath: path) {
            case .zstd: self = .zstd
            case .gzip: self = .gzip
            case .lz4: self = .lz4
            case .plain, .parquet: self = .none
            }
        }
    }

    let kind: Kind
    private let sink: AtomicFile.Sink
    private var zstd: OpaquePointer?
    /// zlib's state points back at its stream: the stream must not move once initialised.
    private var deflate: UnsafeMutablePointer<z_stream>?
    private var lz4: OpaquePointer?
    private var buffer: [UInt8] = []

    init(kind: Kind, sink: AtomicFile.Sink) throws {
        self.kind = kind
        self.sink = sink
        switch kind {
        case .none:
            break
        case .zstd:
            zstd = ZSTD_createCCtx()
            guard zstd != nil else { throw fail("cannot allocate a zstd context") }
        case .gzip:
            let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
            stream.initialize(to: z_stream())
            // 15 + 16: a gzip member, as `.gz` readers expect.
            guard deflateInit2_(stream, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                stream.deallocate()
                throw fail("cannot initialise zlib")
            }
            deflate = stream
        case .lz4:
            var context: OpaquePointer?
            guard LZ4F_isError(LZ4F_createCompressionContext(&context, UInt32(LZ4F_VERSION))) == 0, let context else {
                throw fail("cannot allocate an lz4 context")
            }
            lz4 = context
            buffer = [UInt8](repeating: 0, count: Int(LZ4F_HEADER_SIZE_MAX))
            let written = buffer.withUnsafeMutableBytes { LZ4F_compressBegin(context, $0.baseAddress, $0.count, nil) }
            guard LZ4F_isError(written) == 0 else { throw fail("lz4 frame header") }
            try sink.write(buffer[0..<written])
        }
    }

    deinit {
        if let zstd { ZSTD_freeCCtx(zstd) }
        if let deflate {
            deflateEnd(deflate)
            deflate.deallocate()
        }
        if let lz4 { LZ4F_freeCompressionContext(lz4) }
    }

    func fail(_ reason: String) -> AtomicFile.Error {
        AtomicFile.Error(path: "\(kind)", reason: reason)
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        try compress(bytes, finishing: false)
    }

    /// Ends the frame (or member); the compressor is spent afterwards.
    func finish() throws {
        try compress(UnsafeRawBufferPointer(start: nil, count: 0), finishing: true)
    }

    private func compress(_ bytes: UnsafeRawBufferPointer, finishing: Bool) throws {
        switch kind {
        case .none:
            try sink.write(raw: bytes)
        case .zstd:
            var input = ZSTD_inBuffer(src: bytes.baseAddress, size: bytes.count, pos: 0)
            let capacity = ZSTD_CStreamOutSize()
            if buffer.count < capacity { buffer = [UInt8](repeating: 0, count: capacity) }
            while true {
                var remaining = 0
                let produced = try buffer.withUnsafeMutableBytes { out -> Int in
                    var output = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
                    remaining = ZSTD_compressStream2(zstd, &output, &input, finishing ? ZSTD_e_end : ZSTD_e_continue)
                    if ZSTD_isError(remaining) != 0 { throw fail("zstd: \(String(cString: ZSTD_getErrorName(remaining)))") }
                    return output.pos
                }
                try sink.write(buffer[0..<produced])
                if finishing ? remaining == 0 : input.pos == input.size { return }
            }
        case .gzip:
            guard let stream = deflate else { return }
            if buffer.count < 1 << 16 { buffer = [UInt8](repeating: 0, count: 1 << 16) }
            stream.pointee.next_in = UnsafeMutablePointer(mutating: bytes.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.pointee.avail_in = uInt(bytes.count)
            while true {
                let capacity = buffer.count
                let status = buffer.withUnsafeMutableBytes { out -> Int32 in
                    stream.pointee.next_out = out.baseAddress?.assumingMemoryBound(to: Bytef.self)
                    stream.pointee.avail_out = uInt(capacity)
                    return CZlib.deflate(stream, finishing ? Z_FINISH : Z_NO_FLUSH)
                }
                guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else { throw fail("gzip: zlib status \(status)") }
                try sink.write(buffer[0..<(capacity - Int(stream.pointee.avail_out))])
                if finishing ? status == Z_STREAM_END : stream.pointee.avail_in == 0 && stream.pointee.avail_out > 0 { return }
            }
        case .lz4:
            let bound = LZ4F_compressBound(max(bytes.count, 1), nil)
            if buffer.count < bound { buffer = [UInt8](repeating: 0, count: bound) }
            let written = buffer.withUnsafeMutableBytes { out in
                finishing ? LZ4F_compressEnd(lz4, out.baseAddress, out.count, nil)
                          : LZ4F_compressUpdate(lz4, out.baseAddress, out.count, bytes.baseAddress, bytes.count, nil)
            }
            guard LZ4F_isError(written) == 0 else { throw fail("lz4: \(String(cString: LZ4F_getErrorName(written)))") }
            try sink.write(buffer[0..<written])
        }
    }
}
