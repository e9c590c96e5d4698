import CZstd

/// Streams a zstd file through libzstd's `ZSTD_decompressStream`.
///
/// Multiple frames and skippable frames are handled by libzstd itself; the stream is only complete
/// when the last frame ended exactly at the end of the file.
public final class ZstdDecompressor: ByteSource {
    private var input: InputWindow
    private let stream: OpaquePointer
    /// libzstd's last return: 0 right after a frame ends, a size hint while a frame is open.
    private var frameOpen = false

    public init(file: FileSource) throws {
        guard let stream = ZSTD_createDStream() else {
            throw ShardError(shard: file.path, kind: .unreadable, reason: "cannot allocate a zstd stream")
        }
        ZSTD_initDStream(stream)
        self.stream = stream
        input = InputWindow(file: file)
    }

    deinit {
        ZSTD_freeDStream(stream)
        input.deallocate()
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            guard try input.ensureInput(frameOpen: frameOpen, format: "zstd") else { return 0 }
            var inBuffer = ZSTD_inBuffer(src: input.pendingPointer, size: input.pendingCount, pos: 0)
            var outBuffer = ZSTD_outBuffer(dst: buffer.baseAddress, size: buffer.count, pos: 0)
            let result = ZSTD_decompressStream(stream, &outBuffer, &inBuffer)
            input.start += inBuffer.pos
            if ZSTD_isError(result) != 0 { throw input.corrupt("zstd", String(cString: ZSTD_getErrorName(result))) }
            frameOpen = result != 0
            if outBuffer.pos > 0 { return outBuffer.pos }
        }
    }
}
