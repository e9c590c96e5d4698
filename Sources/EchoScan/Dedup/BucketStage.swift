import Foundation

/// Dedup stage 2, one task per LSH band plus one for exact duplicates: every document's band
/// hash (or content hash) is sorted on disk with bounded memory, and each document that shares a
/// bucket is paired with the bucket's first member and the one before it. A pair whose MinHash
/// estimate is more than 0.2 (about five standard errors) below the threshold is dropped; the others
/// are written to `buckets/BBBBBB.pairs` (a u64, b u64, estimate × 10⁶ u32, exact u32) as
/// candidates. The cluster stage verifies each distinct candidate once: a true pair collides in
/// most of the bands, so verifying here would repeat the work a dozen times.
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
        let files = try layout.shards.indices.map { try SignatureFile(path: layout.signaturePath($0)) }
        let exact = band == banding.bands
        try FileManager.default.createDirectory(atPath: layout.sortFolder(band), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: layout.sortFolder(band)) }
        var sorter = ExternalSorter(directory: layout.sortFolder(band), runEntries: options.sortRunEntries)
        // Only this band's keys are read (the signature stage wrote them band-major); signatures
        // are read one at a time, for the documents that share a bucket.
        let minimumTokens = exact ? 1 : options.minimumTokens
        for shard in layout.shards.indices {
            try BandFile(path: layout.bandsPath(shard)).forEachKey(band) { record, tokens, key in
                guard tokens >= minimumTokens else { return }
                try sorter.append(key, UInt64(shard) << 32 | UInt64(record))
            }
        }
        func signature(_ document: UInt64) throws -> [UInt32] {
            try files[Int(document >> 32)].signature(Int(document & 0xFFFF_FFFF))
        }
        let floor = options.parameters.nearDuplicateThreshold - 0.2
        var pairs = BinaryBuffer()
        func write(_ a: UInt64, _ b: UInt64, estimate: Double) {
            pairs.append(a)
            pairs.append(b)
            pairs.append(UInt32((estimate * 1_000_000).rounded()))
            pairs.append(UInt32(exact ? 1 : 0))
        }
        func similarity(_ a: [UInt32], _ b: [UInt32]) -> Double {
            a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { MinHasher.similarity(x, $0) } }
        }
        var bucketKey: UInt64? = nil
        var first: UInt64 = 0
        var previous: UInt64 = 0
        // Signatures are read once per bucket member, when a second member shows up.
        var firstSignature: [UInt32]? = nil
        var previousSignature: [UInt32]? = nil
        try sorter.forEachSorted { entry in
            guard entry.key == bucketKey else {
                bucketKey = entry.key
                first = entry.value
                previous = entry.value
                firstSignature = nil
                previousSignature = nil
                return
            }
            let document = entry.value
            defer { previous = document }
            guard !exact else { return write(first, document, estimate: 1) }
            let documentSignature = try signature(document)
            let head = try firstSignature ?? signature(first)
            firstSignature = head
            let estimate = similarity(head, documentSignature)
            if estimate >= floor { write(first, document, estimate: estimate) }
            if previous != first {
                let last = try previousSignature ?? signature(previous)
                let estimate = similarity(last, documentSignature)
                if estimate >= floor { write(previous, document, estimate: estimate) }
            }
            previousSignature = documentSignature
        }
        try AtomicFile.write(pairs.bytes, to: layout.pairsPath(band), durable: false)
    }
}
