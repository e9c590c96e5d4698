/// The line, byte offset and id of each document of a shard, written by the signature stage and
/// looked up at random, through a memory map, by the clusters and decisions stages:
/// ```
/// header  magic "ECHODOC1", count u64
/// ids     the documents' ids, UTF-8, concatenated
/// records per document: line u64, offset u64, id start u64, id length i64 (-1: no id), at the end
/// ```
struct DocumentTable {
    static let magic: [UInt8] = Array("ECHODOC1".utf8)
    static let headerBytes = 16
    static let recordBytes = 32

    let file: MappedFile
    let count: Int
    private let recordsStart: Int

    init(path: String) throws {
        file = try MappedFile.forStage(path)
        let bytes = file.bytes
        guard bytes.count >= Self.headerBytes, Array(bytes[0..<8]) == Self.magic else {
            throw StageFileError(path: path, reason: "not a document table (did the signature stage finish?)")
        }
        count = Int(bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self).littleEndian)
        recordsStart = bytes.count - count * Self.recordBytes
        guard recordsStart >= Self.headerBytes else {
            throw StageFileError(path: path, reason: "truncated document table")
        }
    }

    private func field(_ record: Int, _ index: Int) -> Int {
        Int(truncatingIfNeeded: file.bytes.loadUnaligned(fromByteOffset: recordsStart + record * Self.recordBytes + 8 * index,
                                                          as: UInt64.self).littleEndian)
    }

    func line(_ record: Int) -> Int { field(record, 0) }
    func offset(_ record: Int) -> Int { field(record, 1) }

    func id(_ record: Int) -> String? {
        let length = field(record, 3)
        guard length >= 0 else { return nil }
        let start = Self.headerBytes + field(record, 2)
        return String(decoding: UnsafeRawBufferPointer(rebasing: file.bytes[start..<(start + length)]), as: UTF8.self)
    }

    /// Streams one shard's documents into an atomically written table: ids as they come, the
    /// fixed-size records (32 bytes per document) at the end.
    final class Writer {
        private let file: StageFileWriter
        private var idBytes = 0
        private var records = BinaryBuffer()
        private var count = 0

        init(sink: AtomicFile.Sink) throws {
            var header = BinaryBuffer()
            header.append(contentsOf: DocumentTable.magic)
            header.append(UInt64(0))
            file = try StageFileWriter(sink: sink, header: header, countOffset: 8)
        }

        func append(line: Int, offset: Int, id: String?) throws {
            records.append(UInt64(line))
            records.append(UInt64(offset))
            records.append(UInt64(idBytes))
            if let id {
                let utf8 = Array(id.utf8)
                records.append(Int64(utf8.count))
                file.pending.bytes += utf8
                idBytes += utf8.count
            } else {
                records.append(Int64(-1))
            }
            count += 1
            try file.flushIfFull()
        }

        func finish() throws {
            file.pending.bytes += records.bytes
            try file.finish(count: count)
        }
    }
}
