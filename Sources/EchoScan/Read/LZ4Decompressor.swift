import CLZ4

/// Streams an LZ4 frame file (the format the `lz4` command writes) through liblz4's `LZ4F_decompress`.
///
/// Concatenated and skippable frames are handled by liblz4: its context resets after each frame.
public final class LZ4Decompressor: ByteSource {
    private var input: InputWindow
    private var context: OpaquePointer?
    private var frameOpen = false

    public init(file: FileSource) throws {
        var context: OpaquePointer?
        let status = LZ4F_createDecompressionContext(&context, UInt32(LZ4F_VERSION))
        guard LZ4F_isError(status) == 0, let context else {
            throw ShardError(shard: file.path, kind: .unreadable, reason: "cannot allocate an lz4 context")
        }
        self.context = context
        input = InputWindow(file: file)
    }

    deinit {
        LZ4F_freeDecompressionContext(context)
        input.deallocate()
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            guard try input.ensureInput(frameOpen: frameOpen, format: "lz4") else { return 0 }
            var produced = buffer.count
            var consumed = input.pendingCount
            let hint = LZ4F_decompress(context, buffer.baseAddress, &produced, input.pendingPointer, &consumed, nil)
            input.start += consumed
            if LZ4F_isError(hint) != 0 { throw input.corrupt("lz4", String(cString: LZ4F_getErrorName(hint))) }
            frameOpen = hint != 0
            if produced > 0 { return produced }
        }
    }
}
