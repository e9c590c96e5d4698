import Foundation

/// Dedup stage 2, one task per LSH band plus one for exact duplicates: every document's band
/// hash (or content hash) is sorted on disk with bounded memory; documents sharing a bucket are
/// verified against the bucket's first member (and the previous one) by the exact Jaccard
/// similarity of their k-gram sets (`KGramFile`), and
/// the verified pairs written to `buckets/BBBBBB.pairs` (a u64, b u64, Jaccard × 10⁶ u32, exact u32).
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
        for (shard, file) in files.enumerated() {
            try file.forEachRecord { record, document in
                let key: UInt64
                if exact {
                    guard document.tokens > 0 else { return }
                    key = document.exactHash
                } else {
                    guard document.tokens >= options.minimumTokens else { return }
                    key = banding.bandHash(document.signature, band: band)
                }
                try sorter.append(key, UInt64(shard) << 32 | UInt64(record))
            }
        }
        func signature(_ document: UInt64) throws -> [UInt32] {
            try files[Int(document >> 32)].signature(Int(document & 0xFFFF_FFFF))
        }
        let kgramFiles = try exact ? [] : layout.shards.indices.map { try KGramFile(path: layout.kgramPath($0)) }
        let threshold = options.parameters.nearDuplicateThreshold
        /// The Jaccard similarity of two documents' k-gram sets. The MinHash estimate first rules
        /// out clear non-duplicates (more than 0.2, about five standard errors, below the threshold)
        /// without reading their k-grams.
        var sets = KGramFile.SetBuilder()
        func verifiedSimilarity(_ a: UInt64, _ signatureA: [UInt32], _ b: UInt64, _ signatureB: [UInt32]) throws -> Double {
            let estimate = signatureA.withUnsafeBufferPointer { x in signatureB.withUnsafeBufferPointer { MinHasher.similarity(x, $0) } }
            guard estimate >= threshold - 0.2 else { return 0 }
            return sets.jaccard(try kgramFiles[Int(a >> 32)].kgrams(Int(a & 0xFFFF_FFFF)),
                                try kgramFiles[Int(b >> 32)].kgrams(Int(b & 0xFFFF_FFFF)))
        }
        var pairs = BinaryBuffer()
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
            var similarity = 1.0
            var partner = first
            if !exact {
                let documentSignature = try signature(document)
                let head = try firstSignature ?? signature(first)
                firstSignature = head
                similarity = try verifiedSimilarity(first, head, document, documentSignature)
                if similarity < threshold && previous != first {
                    let last = try previousSignature ?? signature(previous)
                    similarity = try verifiedSimilarity(previous, last, document, documentSignature)
                    partner = previous
                }
                previousSignature = documentSignature
            }
            previous = document
            guard exact || similarity >= threshold else { return }
            pairs.append(partner)
            pairs.append(document)
            pairs.append(UInt32((similarity * 1_000_000).rounded()))
            pairs.append(UInt32(exact ? 1 : 0))
        }
        try AtomicFile.write(pairs.bytes, to: layout.pairsPath(band))
    }
}
