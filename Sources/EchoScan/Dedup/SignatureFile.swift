import Foundation

/// The signatures of one shard's documents, written by the signature stage:
/// ```
/// header  magic "ECHOSIG1", permutations u32, reserved u32, count u64, reserved u64
/// record  line u32, tokens u32, exact-content hash u64, signature (permutations × u32)
/// ```
/// plus `<name>.docs` with the line, byte offset and id of each record (`DocumentTable`), and the
/// documents' k-gram sets in `<name>.kgrams` (`KGramFile`).
/// Read a record at a time with `pread` where the cluster stage screens a candidate pair and
/// confirms exact duplicates (the bucket tasks read their band hashes from `BandFile`): not
/// mapped, so that a task reading every shard's file does not count all of them in its resident set.
final class SignatureFile: Sendable {
    static let magic: [UInt8] = Array("ECHOSIG1".utf8)
    static let headerBytes = 32

    /// One record; `signature` is valid only during the call that hands it out.
    struct Record {
        var line: Int
        var tokens: Int
        var exactHash: UInt64
        var signature: UnsafeBufferPointer<UInt32>
    }

    let permutations: Int
    let count: Int
    private let file: PositionalFile

    var recordBytes: Int { 16 + 4 * permutations }

    init(path: String) throws {
        file = try PositionalFile(path: path)
        let header = try file.header(Self.headerBytes, magic: Self.magic, kind: "signature file")
        permutations = Int(header.littleEndian(UInt32.self, at: 8))
        count = Int(header.littleEndian(UInt64.self, at: 16))
        guard file.size == Self.headerBytes + count * (16 + 4 * permutations) else {
            throw StageFileError(path: path, reason: "truncated signature file")
        }
    }

    /// Record `index`, handed to `body`.
    func withRecord<Result>(_ index: Int, _ body: (Record) throws -> Result) throws -> Result {
        let buffer = try file.read(recordBytes, at: Self.headerBytes + index * recordBytes)
        return try buffer.withUnsafeBytes { raw in
            let signature = raw.baseAddress.map { ($0 + 16).assumingMemoryBound(to: UInt32.self) }
            return try body(Record(line: Int(raw.loadUnaligned(fromByteOffset: 0, as: UInt32.self).littleEndian),
                                   tokens: Int(raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self).littleEndian),
                                   exactHash: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self).littleEndian,
                                   signature: UnsafeBufferPointer(start: signature, count: permutations)))
        }
    }

    /// The MinHash estimate of the Jaccard similarity of record `index` and record `otherIndex`
    /// of `other`.
    func similarity(_ index: Int, to other: SignatureFile, _ otherIndex: Int) throws -> Double {
        try withRecord(index) { record in
            try other.withRecord(otherIndex) { MinHasher.similarity(record.signature, $0.signature) }
        }
    }

    /// Streams one shard's signature records into an atomically written file.
    final class Writer {
        private let file: StageFileWriter
        private var count = 0

        init(sink: AtomicFile.Sink, permutations: Int) throws {
            var header = BinaryBuffer()
            header.append(contentsOf: SignatureFile.magic)
            header.append(UInt32(permutations))
            header.append(UInt32(0))
            header.append(UInt64(0))
            header.append(UInt64(0))
            file = try StageFileWriter(sink: sink, header: header, countOffset: 16)
        }

        func append(line: Int, tokens: Int, exactHash: UInt64, signature: [UInt32]) throws {
            file.pending.append(UInt32(line))
            file.pending.append(UInt32(tokens))
            file.pending.append(exactHash)
            file.pending.append(contentsOf: signature)
            count += 1
            try file.flushIfFull()
        }

        func finish() throws {
            try file.finish(count: count)
        }
    }
}
