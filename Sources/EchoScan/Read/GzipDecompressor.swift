import CZlib

/// Streams a gzip file through zlib's `inflate`, including files of several concatenated members
/// (what `cat a.gz b.gz` and parallel gzip tools produce).
public final class GzipDecompressor: ByteSource {
    private var input: InputWindow
    private var stream = z_stream()
    private var memberOpen = false

    public init(file: FileSource) throws {
        input = InputWindow(file: file)
        // 15 + 16: a 32 KiB window and gzip headers only.
        let status = inflateInit2_(&stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            input.deallocate()
            throw ShardError(shard: file.path, kind: .unreadable, reason: "cannot initialise zlib (\(status))")
        }
    }

    deinit {
        inflateEnd(&stream)
        input.deallocate()
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            guard try input.ensureInput(frameOpen: memberOpen, format: "gzip") else { return 0 }
            let available = input.pendingCount
            stream.next_in = UnsafeMutablePointer(mutating: input.pendingPointer.assumingMemoryBound(to: Bytef.self))
            stream.avail_in = UInt32(available)
            stream.next_out = buffer.baseAddress?.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = UInt32(buffer.count)
            memberOpen = true
            let status = inflate(&stream, Z_NO_FLUSH)
            input.start += available - Int(stream.avail_in)
            let produced = buffer.count - Int(stream.avail_out)
            switch status {
            case Z_STREAM_END:
                // A member ended; another may follow in the same file.
                memberOpen = false
                inflateReset(&stream)
            case Z_OK, Z_BUF_ERROR:
                break
            default:
                throw input.corrupt("gzip", stream.msg.map { String(cString: $0) } ?? "error \(status)")
            }
            if produced > 0 { return produced }
        }
    }
}
