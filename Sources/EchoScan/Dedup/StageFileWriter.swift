/// Streams a dedup stage file into an atomically written target: a header whose record count is
/// known only at the end (written as 0, patched by `finish`), then bytes gathered in a buffer and
/// written a mebibyte at a time.
final class StageFileWriter {
    private let sink: AtomicFile.Sink
    private let countOffset: Int
    /// Bytes not yet written; appenders add to it, then call `flushIfFull`.
    var pending = BinaryBuffer()

    /// Writes `header`, whose u64 record count at `countOffset` `finish` fills in.
    init(sink: AtomicFile.Sink, header: BinaryBuffer, countOffset: Int) throws {
        self.sink = sink
        self.countOffset = countOffset
        try sink.write(header.bytes)
    }

    func flushIfFull() throws {
        if pending.bytes.count >= 1 << 20 { try flush() }
    }

    private func flush() throws {
        try sink.write(pending.bytes)
        pending.bytes.removeAll(keepingCapacity: true)
    }

    /// Writes what is pending and sets the header's record count.
    func finish(count: Int) throws {
        try flush()
        var bytes = BinaryBuffer()
        bytes.append(UInt64(count))
        try sink.overwrite(bytes.bytes, at: countOffset)
    }
}
