import Foundation

/// The documents of one shard that belong to a cluster, written by the cluster stage and read by
/// the shard's decision task. Only clustered documents have a record, so that neither stage holds
/// anything per document of the corpus:
/// ```
/// header  magic "ECHOMEM1", count u64
/// record  record u32, cluster u32, kept shard u32, kept record u32, Jaccard to the kept
///         document × 10⁶ u32, exact duplicate u32 (0 or 1); in increasing record order
/// ```
struct MembershipFile {
    static let magic: [UInt8] = Array("ECHOMEM1".utf8)
    static let headerBytes = 16
    static let recordBytes = 24

    struct Entry: Equatable {
        var record: UInt32
        var cluster: UInt32
        var keptShard: UInt32
        var keptRecord: UInt32
        /// The Jaccard similarity to the kept document, in millionths.
        var jaccard: UInt32
        var isExact: Bool
    }

    /// Writes `entries`, sorted by record, to `path`.
    static func write(_ entries: [Entry], to path: String) throws {
        var bytes = BinaryBuffer()
        bytes.bytes = magic
        bytes.append(UInt64(entries.count))
        for entry in entries.sorted(by: { $0.record < $1.record }) {
            for field in [entry.record, entry.cluster, entry.keptShard, entry.keptRecord, entry.jaccard, entry.isExact ? 1 : 0] {
                bytes.append(field)
            }
        }
        try AtomicFile.write(bytes.bytes, to: path, durable: false)
    }

    let file: MappedFile
    let count: Int

    init(path: String) throws {
        file = try MappedFile.forStage(path)
        let bytes = file.bytes
        guard bytes.count >= Self.headerBytes, Array(bytes[0..<8]) == Self.magic else {
            throw StageFileError(path: path, reason: "not a membership file (did the cluster stage finish?)")
        }
        let declared = bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self).littleEndian
        guard declared <= UInt64((bytes.count - Self.headerBytes) / Self.recordBytes),
              bytes.count == Self.headerBytes + Int(declared) * Self.recordBytes else {
            throw StageFileError(path: path, reason: "truncated membership file")
        }
        count = Int(declared)
    }

    subscript(position: Int) -> Entry {
        precondition(position >= 0 && position < count, "membership record \(position) of \(count)")
        func field(_ index: Int) -> UInt32 {
            file.bytes.loadUnaligned(fromByteOffset: Self.headerBytes + position * Self.recordBytes + 4 * index, as: UInt32.self).littleEndian
        }
        return Entry(record: field(0), cluster: field(1), keptShard: field(2), keptRecord: field(3), jaccard: field(4), isExact: field(5) == 1)
    }
}
