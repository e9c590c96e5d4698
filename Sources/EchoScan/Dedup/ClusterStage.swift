import Foundation

/// Dedup stage 3, one task on all threads: gathers the candidate pairs of all bands, sorts them on
/// disk and verifies each distinct pair once by the exact Jaccard similarity of the two documents'
/// k-gram sets (`KGramFile`), then joins the verified pairs and the exact duplicates with
/// union-find. In each cluster the first document in input order (shard order, then line order)
/// is kept. Writes `clusters.jsonl` and, per shard, the cluster membership of its clustered
/// documents for the decision stage (`MembershipFile`).
///
/// It holds only the documents that appear in a pair (the union-find runs over them), never an
/// entry per document of the corpus.
struct ClusterStage {
    let layout: DedupLayout
    let bucketTasks: Int
    let options: DedupOptions
    let threads: Int
    /// Candidates verified together on all threads; unions follow in sorted order, so the
    /// clusters do not depend on the thread count.
    static let verificationBlock = 1 << 14

    func run() throws {
        let files = try layout.shards.indices.map { try SignatureFile(path: layout.signaturePath($0)) }
        var offsets = [0]
        for file in files { offsets.append(offsets[offsets.count - 1] + file.count) }
        let total = offsets[offsets.count - 1]
        func locate(_ global: Int) -> (shard: Int, record: Int) {
            var low = 0
            var high = files.count - 1
            while low < high {
                let middle = (low + high + 1) / 2
                if offsets[middle] <= global { low = middle } else { high = middle - 1 }
            }
            return (low, global - offsets[low])
        }
        // A document of a pair file (shard << 32 | record) as an index over all shards.
        func global(_ document: UInt64) throws -> Int {
            let shard = Int(document >> 32), record = Int(document & 0xFFFF_FFFF)
            guard shard < files.count, record < files[shard].count else {
                throw StageFileError(path: layout.clusterFolder, reason: "a pair names document \(record) of shard \(shard), which is not there")
            }
            return offsets[shard] + record
        }

        let kgrams = try layout.shards.indices.map { try KGramFile(path: layout.kgramPath($0)) }
        let paired = try pairedDocuments(global: global)
        var sets = try joinPairs(paired: paired, global: global, signatures: files, kgrams: kgrams)
        // The kept document of a set is its smallest global index (paired documents are in
        // global order); clusters are numbered in the order of their kept documents.
        var kept = [Int](repeating: -1, count: paired.count)
        var size = [Int](repeating: 0, count: paired.count)
        for position in paired.indices {
            let root = sets.find(position)
            if kept[root] < 0 { kept[root] = position }
            size[root] += 1
        }
        var clusterOf = [Int](repeating: -1, count: paired.count)
        var members: [[Int]] = []
        for position in paired.indices {
            let root = sets.find(position)
            guard size[root] > 1 else { continue }
            if kept[root] == position {
                clusterOf[root] = members.count
                members.append([paired[position]])
            } else {
                members[clusterOf[root]].append(paired[position])
            }
        }

        let documents = try layout.shards.indices.map { try DocumentTable(path: layout.documentsPath($0)) }
        func describe(_ document: Int, into json: inout JSONWriter) {
            let (shard, record) = locate(document)
            json.beginObject()
            json.key("shard"); json.string(layout.shards[shard])
            json.key("line"); json.integer(documents[shard].line(record))
            json.key("id"); json.optionalString(documents[shard].id(record))
        }
        func document(_ global: Int) -> UInt64 {
            let (shard, record) = locate(global)
            return UInt64(shard) << 32 | UInt64(record)
        }
        // Each member's similarity to its cluster's kept document, as reported.
        let keptPairs = members.flatMap { list in list.dropFirst().map { (document(list[0]), document($0)) } }
        var keptSimilarities = try Self.similarities(of: keptPairs, kgrams: kgrams, threads: threads)[...]
        func isExact(_ a: Int, _ b: Int) throws -> Bool {
            let (sa, ra) = locate(a)
            let (sb, rb) = locate(b)
            let (hashA, tokensA) = try files[sa].withRecord(ra) { ($0.exactHash, $0.tokens) }
            let (hashB, tokensB) = try files[sb].withRecord(rb) { ($0.exactHash, $0.tokens) }
            return hashA == hashB && tokensA == tokensB
        }

        var membership = [[MembershipFile.Entry]](repeating: [], count: layout.shards.count)
        try AtomicFile.write(to: layout.clustersFile, durable: false) { sink in
            for (cluster, list) in members.enumerated() {
                let keeper = list[0]
                let (keptShard, keptRecord) = locate(keeper)
                var json = JSONWriter()
                json.beginObject()
                json.key("cluster"); json.integer(cluster)
                json.key("size"); json.integer(list.count)
                json.key("kept"); describe(keeper, into: &json); json.endObject()
                json.key("reason"); json.string("first in input order")
                json.key("duplicates"); json.beginArray()
                for member in list {
                    let (shard, record) = locate(member)
                    let jaccard = member == keeper ? 1 : keptSimilarities.popFirst() ?? 0
                    let exact = try isExact(keeper, member)
                    membership[shard].append(.init(record: UInt32(record), cluster: UInt32(cluster), keptShard: UInt32(keptShard),
                                                   keptRecord: UInt32(keptRecord), jaccard: UInt32((jaccard * 1_000_000).rounded()),
                                                   isExact: exact))
                    guard member != keeper else { continue }
                    describe(member, into: &json)
                    json.key("jaccard"); json.number(jaccard)
                    json.key("exact"); json.bool(exact)
                    json.endObject()
                }
                json.endArray()
                json.endObject()
                try sink.write(json.bytes + [0x0A])
            }
        }
        for shard in membership.indices { try MembershipFile.write(membership[shard], to: layout.membershipPath(shard)) }
    }

    /// The global indices of the documents in any pair of any band, sorted, each once.
    private func pairedDocuments(global: (UInt64) throws -> Int) throws -> [Int] {
        var paired: [Int] = []
        for band in 0..<bucketTasks {
            try forEachPair(band: band) { a, b, _ in
                paired.append(try global(a))
                paired.append(try global(b))
            }
            // Deduplicated band by band, so that repeats across bands never pile up.
            paired.sort()
            paired = paired.uniqued()
        }
        return paired
    }

    /// The pairs of one band's file: two documents (shard << 32 | record) and whether they are
    /// exact duplicates.
    private func forEachPair(band: Int, _ body: (UInt64, UInt64, Bool) throws -> Void) throws {
        let pairs = try MappedFile.forStage(layout.pairsPath(band))
        var offset = 0
        while offset + 20 <= pairs.bytes.count {
            let a = pairs.bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self).littleEndian
            let b = pairs.bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self).littleEndian
            try body(a, b, pairs.bytes.loadUnaligned(fromByteOffset: offset + 16, as: UInt32.self).littleEndian == 1)
            offset += 20
        }
    }

    /// Union-find over the paired documents (positions in `paired`) joined by the bucket stage's
    /// pairs: exact duplicates at once, near-duplicate candidates once each (sorted on disk,
    /// repeats dropped) when their k-gram sets' Jaccard similarity reaches the threshold,
    /// verified a block at a time on all threads.
    private func joinPairs(paired: [Int], global: (UInt64) throws -> Int, signatures: [SignatureFile], kgrams: [KGramFile]) throws -> UnionFind {
        var sets = UnionFind(count: paired.count)
        // Every document of a pair is in `paired` (`pairedDocuments` read the same files).
        func position(_ document: UInt64) throws -> Int { paired.sortedIndex(of: try global(document)) }
        let scratch = layout.clusterFolder + "/candidates"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var candidates = ExternalSorter(directory: scratch, runEntries: options.sortRunEntries)
        for band in 0..<bucketTasks {
            try forEachPair(band: band) { a, b, exact in
                if exact {
                    sets.union(try position(a), try position(b))
                } else {
                    try candidates.append(min(a, b), max(a, b))
                }
            }
        }
        let threshold = options.parameters.nearDuplicateThreshold
        // A pair whose MinHash estimate is more than 0.2 (about five standard errors) below the
        // threshold is not verified: reading two signatures costs less than two k-gram sets.
        let floor = threshold - 0.2
        var block: [(UInt64, UInt64)] = []
        func verifyBlock() throws {
            let similarities = try Self.similarities(of: block, kgrams: kgrams, threads: threads) { a, b in
                try signatures[Int(a >> 32)].similarity(Int(a & 0xFFFF_FFFF), to: signatures[Int(b >> 32)], Int(b & 0xFFFF_FFFF)) >= floor
            }
            for (pair, jaccard) in zip(block, similarities) where jaccard >= threshold {
                sets.union(try position(pair.0), try position(pair.1))
            }
            block.removeAll(keepingCapacity: true)
        }
        var last: ExternalSorter.Entry? = nil
        try candidates.forEachSorted { entry in
            if let last, last == entry { return }
            last = entry
            block.append(entry)
            if block.count == Self.verificationBlock { try verifyBlock() }
        }
        try verifyBlock()
        return sets
    }

    /// Exact Jaccard similarities of document pairs (shard << 32 | record), on all threads; 0 for
    /// the pairs that `screen` turns down.
    private static func similarities(of pairs: [(UInt64, UInt64)], kgrams: [KGramFile], threads: Int,
                                     screen: @Sendable (UInt64, UInt64) throws -> Bool = { _, _ in true }) throws -> [Double] {
        try Parallel.map(count: pairs.count, threads: threads, makeState: { KGramFile.SetBuilder() }) { builder, index in
            let (a, b) = pairs[index]
            return Result { () throws -> Double in
                guard try screen(a, b) else { return 0 }
                return builder.jaccard(try kgrams[Int(a >> 32)].kgrams(Int(a & 0xFFFF_FFFF)),
                                       try kgrams[Int(b >> 32)].kgrams(Int(b & 0xFFFF_FFFF)))
            }
        }.map { try $0.get() }
    }
}
