import Foundation

/// Dedup stage 4, one task per shard: the lines to drop (`remove/<shard name>.jsonl`), each with
/// the document it duplicates, and the shard's counts.
struct DecisionStage {
    let layout: DedupLayout

    struct ShardCounts: Codable, Sendable {
        var documents: Int
        var duplicates: Int
        var exactDuplicates: Int
        var keptClusterHeads: Int

        enum CodingKeys: String, CodingKey {
            case documents, duplicates, exactDuplicates = "exact_duplicates", keptClusterHeads = "kept_cluster_heads"
        }
    }

    func run(shard: Int) throws {
        let membership = try MembershipFile(path: layout.membershipPath(shard))
        let documents = try DocumentTable(path: layout.documentsPath(shard))
        var keptDocuments: [Int: DocumentTable] = [shard: documents]
        var counts = ShardCounts(documents: documents.count, duplicates: 0, exactDuplicates: 0, keptClusterHeads: 0)
        var output: [UInt8] = []
        for position in 0..<membership.count {
            let entry = membership[position]
            let record = Int(entry.record)
            let keptShard = Int(entry.keptShard)
            let keptRecord = Int(entry.keptRecord)
            guard record < documents.count, keptShard < layout.shards.count else {
                throw StageFileError(path: layout.membershipPath(shard), reason: "record \(position) names a document outside the shards")
            }
            if keptShard == shard && keptRecord == record {
                counts.keptClusterHeads += 1
                continue
            }
            if keptDocuments[keptShard] == nil { keptDocuments[keptShard] = try DocumentTable(path: layout.documentsPath(keptShard)) }
            guard let kept = keptDocuments[keptShard], keptRecord < kept.count else {
                throw StageFileError(path: layout.membershipPath(shard), reason: "record \(position) keeps a document outside its shard")
            }
            counts.duplicates += 1
            if entry.isExact { counts.exactDuplicates += 1 }
            var json = JSONWriter()
            json.beginObject()
            json.key("line"); json.integer(documents.line(record))
            json.key("offset"); json.integer(documents.offset(record))
            json.key("id"); json.optionalString(documents.id(record))
            json.key("cluster"); json.integer(Int(entry.cluster))
            json.key("duplicate_of"); json.beginObject()
            json.key("shard"); json.string(layout.shards[keptShard])
            json.key("line"); json.integer(kept.line(keptRecord))
            json.key("id"); json.optionalString(kept.id(keptRecord))
            json.endObject()
            json.key("jaccard"); json.number(Double(entry.jaccard) / 1_000_000)
            json.key("exact"); json.bool(entry.isExact)
            json.endObject()
            output += json.bytes
            output.append(0x0A)
        }
        try FileManager.default.createDirectory(atPath: layout.removeFolder, withIntermediateDirectories: true)
        try AtomicFile.write(output, to: layout.removePath(shard), durable: false)
        try AtomicFile.write(Array(try DedupFiles.encoder().encode(counts)), to: layout.decisionInfoPath(shard), durable: false)
    }
}
