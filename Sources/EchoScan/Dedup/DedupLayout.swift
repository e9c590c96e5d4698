import Foundation

/// The files of a dedup run inside its output directory; every stage reads and writes here.
struct DedupLayout: Sendable {
    let directory: String
    let shards: [String]
    /// Per shard, the name of its files of removed documents.
    let attributeNames: [String]

    init(directory: String, shards: [String]) {
        self.directory = directory
        self.shards = shards
        // `<shard file name without compression suffix>.jsonl` (the files are written plain).
        attributeNames = OutputLayout.uniqueNames(shards.map { path in
            var name = (path as NSString).lastPathComponent
            for suffix in [".zst", ".zstd", ".lz4", ".gz", ".parquet"] where name.hasSuffix(suffix) { name.removeLast(suffix.count) }
            if !name.hasSuffix(".jsonl") && !name.hasSuffix(".json") { name += ".jsonl" }
            return name
        })
    }

    static func number(_ value: Int) -> String { String(format: "%06d", value) }

    var signatures: String { directory + "/signatures" }
    var buckets: String { directory + "/buckets" }
    var clusterFolder: String { directory + "/clusters" }
    var decisions: String { directory + "/decisions" }
    var removeFolder: String { directory + "/remove" }
    var clustersFile: String { directory + "/clusters.jsonl" }
    var summaryPath: String { directory + "/summary.json" }

    func signaturePath(_ shard: Int) -> String { signatures + "/" + Self.number(shard) + ".sig" }
    func kgramPath(_ shard: Int) -> String { signatures + "/" + Self.number(shard) + ".kgrams" }
    func documentsPath(_ shard: Int) -> String { signatures + "/" + Self.number(shard) + ".docs" }
    func bandsPath(_ shard: Int) -> String { signatures + "/" + Self.number(shard) + ".bands" }
    func bandScratchFolder(_ shard: Int) -> String { signatures + "/" + Self.number(shard) + ".bands-scratch" }
    func shardInfoPath(_ shard: Int) -> String { signatures + "/" + Self.number(shard) + ".shard.json" }
    func pairsPath(_ band: Int) -> String { buckets + "/" + Self.number(band) + ".pairs" }
    func sortFolder(_ band: Int) -> String { buckets + "/sort-" + Self.number(band) }
    func membershipPath(_ shard: Int) -> String { clusterFolder + "/" + Self.number(shard) + ".members" }
    func decisionInfoPath(_ shard: Int) -> String { decisions + "/" + Self.number(shard) + ".json" }
    func removePath(_ shard: Int) -> String { removeFolder + "/" + attributeNames[shard] }
}

/// What the signature stage learned about one shard (`signatures/NNNNNN.shard.json`).
struct DedupShardInfo: Codable, Sendable {
    var path: String
    var format: String?
    var size: Int
    var sha256: String?
    var documents: Int
    var bytes: Int
    var badLines: Int
    var error: String?
    var lineErrors: [String]

    enum CodingKeys: String, CodingKey {
        case path, format, size, sha256, documents, bytes, badLines = "bad_lines", error, lineErrors = "line_errors"
    }
}

enum DedupFiles {
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
