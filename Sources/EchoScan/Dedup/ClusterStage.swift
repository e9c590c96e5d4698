import Foundation

/// Dedup stage 3, one task: joins the verified pairs of all bands with union-find. In each
/// cluster the first document in input order (shard order, then line order) is kept. Writes
/// `clusters.jsonl` and, per shard, each document's cluster membership for the decision stage.
struct ClusterStage {
    let layout: DedupLayout
    let bucketTasks: Int

    /// Per document in `clusters/NNNNNN.members`: cluster (u32, max = none), kept shard u32,
    /// kept record u32, Jaccard to the kept document × 10⁶ u32, exact duplicate u32.
    static let membershipBytes = 20
    static let noCluster = UInt32.max

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
        func global(_ document: UInt64) -> Int { offsets[Int(document >> 32)] + Int(document & 0xFFFF_FFFF) }

        var sets = UnionFind(count: total)
        for band in 0..<bucketTasks {
            let pairs = try MappedFile.forStage(layout.pairsPath(band), stage: "clusters", task: 0)
            var offset = 0
            while offset + 24 <= pairs.bytes.count {
                let a = pairs.bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self).littleEndian
                let b = pairs.bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self).littleEndian
                sets.union(global(a), global(b))
                offset += 24
            }
        }
        // The kept document of a set is its smallest global index; clusters are numbered in
        // the order of their kept documents.
        var kept = [Int](repeating: -1, count: total)
        var size = [Int](repeating: 0, count: total)
        for document in 0..<total {
            let root = sets.find(document)
            if kept[root] < 0 { kept[root] = document }
            size[root] += 1
        }
        var clusterOf = [Int](repeating: -1, count: total)
        var members: [[Int]] = []
        for document in 0..<total {
            let root = sets.find(document)
            guard size[root] > 1 else { continue }
            if kept[root] == document {
                clusterOf[root] = members.count
                members.append([document])
            } else {
                members[clusterOf[root]].append(document)
            }
        }

        let documents = try layout.shards.indices.map { try DocumentTable(path: layout.documentsPath($0)) }
        let kgrams = try layout.shards.indices.map { try KGramFile(path: layout.kgramPath($0)) }
        var kgramSets = KGramFile.SetBuilder()
        func describe(_ document: Int, into json: inout JSONWriter) {
            let (shard, record) = locate(document)
            json.beginObject()
            json.key("shard"); json.string(layout.shards[shard])
            json.key("line"); json.integer(documents[shard].line(record))
            json.key("id"); json.optionalString(documents[shard].id(record))
        }
        func similarity(_ a: Int, _ b: Int) throws -> Double {
            let (sa, ra) = locate(a)
            let (sb, rb) = locate(b)
            return kgramSets.jaccard(try kgrams[sa].kgrams(ra), try kgrams[sb].kgrams(rb))
        }
        func isExact(_ a: Int, _ b: Int) throws -> Bool {
            let (sa, ra) = locate(a)
            let (sb, rb) = locate(b)
            let (hashA, tokensA) = try files[sa].withRecord(ra) { ($0.exactHash, $0.tokens) }
            let (hashB, tokensB) = try files[sb].withRecord(rb) { ($0.exactHash, $0.tokens) }
            return hashA == hashB && tokensA == tokensB
        }

        var membership = layout.shards.indices.map { shard -> [UInt32] in
            [UInt32](repeating: 0, count: files[shard].count * 5)
        }
        for shard in membership.indices {
            for record in 0..<files[shard].count { membership[shard][record * 5] = Self.noCluster }
        }
        try AtomicFile.write(to: layout.clustersFile) { sink in
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
                    let jaccard = try similarity(keeper, member)
                    let exact = try isExact(keeper, member)
                    let base = record * 5
                    membership[shard][base] = UInt32(cluster)
                    membership[shard][base + 1] = UInt32(keptShard)
                    membership[shard][base + 2] = UInt32(keptRecord)
                    membership[shard][base + 3] = UInt32((jaccard * 1_000_000).rounded())
                    membership[shard][base + 4] = exact ? 1 : 0
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
        for shard in membership.indices {
            var bytes = BinaryBuffer()
            bytes.append(contentsOf: membership[shard])
            try AtomicFile.write(bytes.bytes, to: layout.membershipPath(shard))
        }
    }
}
