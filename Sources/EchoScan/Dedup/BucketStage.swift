import Foundation

/// Dedup stage 2, one task per LSH band plus one for exact duplicates: every document's band
/// hash (or content hash) is sorted on disk with bounded memory, and each document that shares a
/// bucket is paired with the bucket's first member and the one before it. The pairs are written
/// to `buckets/BBBBBB.pairs` (a u64, b u64, exact u32) as candidates. The cluster stage screens
/// and verifies each distinct candidate once: a true pair collides in most of the bands, so
/// looking at it here would repeat the work a dozen times.
struct BucketStage {
    let layout: DedupLayout
    let options: DedupOptions
    /// Derived from the threshold once: the search over (bands, rows) is not free.
    let banding: LSHBanding

    init(layout: DedupLayout, options: DedupOptions) {
        self.layout = layout
        self.options = options
        banding = options.parameters.banding
    }
    /// The task after the last band groups exact duplicates.
    var taskCount: Int { banding.bands + 1 }

    func run(band: Int) throws {
        let exact = band == banding.bands
        try FileManager.default.createDirectory(atPath: layout.sortFolder(band), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: layout.sortFolder(band)) }
        var sorter = ExternalSorter(directory: layout.sortFolder(band), runEntries: options.sortRunEntries)
        // Only this band's keys are read: the signature stage wrote them band-major.
        let minimumTokens = exact ? 1 : options.minimumTokens
        for shard in layout.shards.indices {
            try BandFile(path: layout.bandsPath(shard)).forEachKey(band) { record, tokens, key in
                guard tokens >= minimumTokens else { return }
                try sorter.append(key, UInt64(shard) << 32 | UInt64(record))
            }
        }
        var pairs = BinaryBuffer()
        func write(_ a: UInt64, _ b: UInt64) {
            pairs.append(a)
            pairs.append(b)
            pairs.append(UInt32(exact ? 1 : 0))
        }
        var bucketKey: UInt64? = nil
        var first: UInt64 = 0
        var previous: UInt64 = 0
        try sorter.forEachSorted { entry in
            guard entry.key == bucketKey else {
                bucketKey = entry.key
                first = entry.value
                previous = entry.value
                return
            }
            write(first, entry.value)
            // Exact duplicates are joined without verification: the first member is enough.
            if previous != first && !exact { write(previous, entry.value) }
            previous = entry.value
        }
        try AtomicFile.write(pairs.bytes, to: layout.pairsPath(band), durable: false)
    }
}
