/// The k-grams of each document of a shard, written by the signature stage so that the
/// bucket stage verifies candidate pairs by their exact Jaccard similarity, not by the MinHash
/// estimate (whose error at 128 values, about ±0.035 at J = 0.8, decides pairs near the threshold):
/// ```
/// header  magic "ECHOKGR1", count u64
/// values  per document, its k-gram hashes' upper 32 bits, in text order (u32 each)
/// offsets u64 start of each document's values, plus the end (count + 1 of them), at the end
/// ```
/// 32 bits per k-gram: two k-grams of one pair of documents collide with probability about
/// n²/2³², which moves a Jaccard value by far less than the MinHash error it replaces. The sets
/// are sorted only when a pair is verified: most documents never are.
final class KGramFile: Sendable {
    static let magic: [UInt8] = Array("ECHOKGR1".utf8)
    static let headerBytes = 16

    private let file: PositionalFile
    /// Start of each document's values (in values), plus the end: 8 bytes per document in memory.
    private let offsets: [UInt64]

    /// Opens the file and reads its offset table. The values are read when a pair is verified,
    /// not mapped: a bucket task verifies pairs all over the corpus (see `PositionalFile`).
    init(path: String) throws {
        file = try PositionalFile(path: path)
        let header = try file.header(Self.headerBytes, magic: Self.magic, kind: "k-gram file")
        let count = Int(header.littleEndian(UInt64.self, at: 8))
        let offsetsStart = file.size - 8 * (count + 1)
        guard count >= 0, offsetsStart >= Self.headerBytes, (offsetsStart - Self.headerBytes) % 4 == 0 else {
            throw StageFileError(path: path, reason: "truncated k-gram file")
        }
        offsets = try file.read(8 * (count + 1), at: offsetsStart).withUnsafeBytes { raw in
            (0...count).map { raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self).littleEndian }
        }
        guard offsets.last == UInt64((offsetsStart - Self.headerBytes) / 4) else {
            throw StageFileError(path: path, reason: "truncated k-gram file")
        }
    }

    /// The k-gram values of document `record`, in text order.
    func kgrams(_ record: Int) throws -> [UInt32] {
        let start = Int(offsets[record])
        var values = [UInt32](repeating: 0, count: Int(offsets[record + 1]) - start)
        try values.withUnsafeMutableBytes { try file.read(into: $0, at: Self.headerBytes + 4 * start) }
        #if _endian(big)
        values = values.map { UInt32(littleEndian: $0) }
        #endif
        return values
    }

    /// Sorts and deduplicates k-gram values, reusing buffers between calls.
    struct SetBuilder {
        private var scratch: [UInt32] = []

        mutating func set(of values: [UInt32]) -> [UInt32] {
            var sorted = values
            RadixSort.sort(&sorted, scratch: &scratch)
            sorted.removeAdjacentDuplicates()
            return sorted
        }

        /// |A ∩ B| / |A ∪ B| of two documents' k-gram sets.
        mutating func jaccard(_ a: [UInt32], _ b: [UInt32]) -> Double {
            let first = set(of: a)
            let second = set(of: b)
            return first.withUnsafeBufferPointer { x in second.withUnsafeBufferPointer { KGramFile.jaccard(sorted: x, $0) } }
        }
    }

    /// |A ∩ B| / |A ∪ B| of two sorted sets, by one merge.
    static func jaccard(sorted a: UnsafeBufferPointer<UInt32>, _ b: UnsafeBufferPointer<UInt32>) -> Double {
        guard !a.isEmpty || !b.isEmpty else { return 1 }
        var i = 0
        var j = 0
        var shared = 0
        while i < a.count && j < b.count {
            let x = a[i]
            let y = b[j]
            if x == y { shared += 1 }
            if x <= y { i += 1 }
            if y <= x { j += 1 }
        }
        return Double(shared) / Double(a.count + b.count - shared)
    }

    /// Streams one shard's k-gram sets into an atomically written file.
    final class Writer {
        private let file: StageFileWriter
        private var offsets: [UInt64] = [0]

        init(sink: AtomicFile.Sink) throws {
            var header = BinaryBuffer()
            header.append(contentsOf: KGramFile.magic)
            header.append(UInt64(0))
            file = try StageFileWriter(sink: sink, header: header, countOffset: 8)
        }

        /// Appends the upper halves of `shingles` (64-bit k-gram hashes).
        func append(_ shingles: [UInt64]) throws {
            let upperHalves = [UInt32](unsafeUninitializedCapacity: shingles.count) { halves, count in
                for (index, hash) in shingles.enumerated() { halves[index] = UInt32(truncatingIfNeeded: hash >> 32) }
                count = shingles.count
            }
            file.pending.append(contentsOf: upperHalves)
            try file.flushIfFull()
            offsets.append((offsets.last ?? 0) + UInt64(shingles.count))
        }

        func finish() throws {
            file.pending.append(contentsOf: offsets)
            try file.finish(count: offsets.count - 1)
        }
    }
}
