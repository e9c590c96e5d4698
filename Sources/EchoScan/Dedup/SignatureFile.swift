import Foundation

/// The signatures of one shard's documents, written by the signature stage:
/// ```
/// header  magic "ECHOSIG1", permutations u32, reserved u32, count u64, reserved u64
/// record  line u32, tokens u32, exact-content hash u64, signature (permutations × u32)
/// ```
/// plus a sidecar `<name>.docs.jsonl` with the line, byte offset and id of each record.
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

    /// Writes a signature file from records produced by `body`, atomically.
    static func write(to path: String, permutations: Int, _ body: ((Int, Int, UInt64, [UInt32]) -> Void) throws -> Void) throws {
        var records = BinaryBuffer()
        var count = 0
        try body { line, tokens, exact, signature in
            records.append(UInt32(line))
            records.append(UInt32(tokens))
            records.append(exact)
            records.append(contentsOf: signature)
            count += 1
        }
        var header = BinaryBuffer()
        header.append(contentsOf: magic)
        header.append(UInt32(permutations))
        header.append(UInt32(0))
        header.append(UInt64(count))
        header.append(UInt64(0))
        try AtomicFile.write(to: path) { sink in
            try sink.write(header.bytes)
            try sink.write(records.bytes)
        }
    }
}
