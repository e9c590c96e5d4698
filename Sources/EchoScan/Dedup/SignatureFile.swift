import Foundation

/// The signatures of one shard's documents, written by the signature stage:
/// ```
/// header  magic "ECHOSIG1", permutations u32, reserved u32, count u64, reserved u64
/// record  line u32, tokens u32, exact-content hash u64, signature (permutations × u32)
/// ```
/// plus `<name>.docs` with the line, byte offset and id of each record (`DocumentTable`), and the
/// documents' k-gram sets in `<name>.kgrams` (`KGramFile`).
/// Read through a memory map: the bucket stage looks records up at random.
struct SignatureFile {
    static let magic: [UInt8] = Array("ECHOSIG1".utf8)
    static let headerBytes = 32

    let file: MappedFile
    let permutations: Int
    let count: Int

    var recordBytes: Int { 16 + 4 * permutations }

    init(path: String) throws {
        file = try MappedFile.forStage(path, stage: "dedup", task: -1)
        let bytes = file.bytes
        guard bytes.count >= Self.headerBytes, Array(bytes[0..<8]) == Self.magic else {
            throw StageError(stage: "dedup", task: -1, reason: "\(path): not a signature file")
        }
        permutations = Int(bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self).littleEndian)
        count = Int(bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self).littleEndian)
        guard bytes.count == Self.headerBytes + count * (16 + 4 * permutations) else {
            throw StageError(stage: "dedup", task: -1, reason: "\(path): truncated signature file")
        }
    }

    func line(_ record: Int) -> Int {
        Int(file.bytes.loadUnaligned(fromByteOffset: Self.headerBytes + record * recordBytes, as: UInt32.self).littleEndian)
    }

    func tokens(_ record: Int) -> Int {
        Int(file.bytes.loadUnaligned(fromByteOffset: Self.headerBytes + record * recordBytes + 4, as: UInt32.self).littleEndian)
    }

    func exactHash(_ record: Int) -> UInt64 {
        file.bytes.loadUnaligned(fromByteOffset: Self.headerBytes + record * recordBytes + 8, as: UInt64.self).littleEndian
    }

    func signature(_ record: Int) -> UnsafeBufferPointer<UInt32> {
        let start = file.bytes.baseAddress! + Self.headerBytes + record * recordBytes + 16
        return UnsafeBufferPointer(start: start.assumingMemoryBound(to: UInt32.self), count: permutations)
    }

    /// Streams one shard's signature records into an atomically written file.
    final class Writer {
        private let sink: AtomicFile.Sink
        private var records = BinaryBuffer()
        private var count = 0

        init(sink: AtomicFile.Sink, permutations: Int) throws {
            self.sink = sink
            var header = BinaryBuffer()
            header.append(contentsOf: SignatureFile.magic)
            header.append(UInt32(permutations))
            header.append(UInt32(0))
            header.append(UInt64(0))  // the count, set by `finish`
            header.append(UInt64(0))
            try sink.write(header.bytes)
        }

        func append(line: Int, tokens: Int, exactHash: UInt64, signature: [UInt32]) throws {
            records.append(UInt32(line))
            records.append(UInt32(tokens))
            records.append(exactHash)
            records.append(contentsOf: signature)
            count += 1
            if records.bytes.count >= 1 << 20 { try flush() }
        }

        private func flush() throws {
            try sink.write(records.bytes)
            records.bytes.removeAll(keepingCapacity: true)
        }

        func finish() throws {
            try flush()
            var header = BinaryBuffer()
            header.append(UInt64(count))
            try sink.overwrite(header.bytes, at: 16)
        }
    }
}
