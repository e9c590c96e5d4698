import Foundation

/// What the reports need from a manifest: per-document best matches, read back from manifest.jsonl.
public struct ManifestDigest: Sendable {
    public struct Entry: Sendable, Equatable {
        public var shard: String
        public var line: Int
        public var id: String?
        /// The record's segment (`messages[3].content`) the spans lie in.
        public var field: String?
        public var detectors: [String]
        public var refID: String?
        public var model: String?
        public var vendor: String?
        public var containment: Double?
        public var spans: [[Int]]
    }

    public var entries: [Entry] = []

    public init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AtomicFile.Error(path: path, reason: "cannot read the manifest")
        }
        for line in data.split(separator: 0x0A) {
            guard let object = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else { continue }
            let best = (object["matches"] as? [[String: Any]])?.first
            entries.append(Entry(shard: object["shard"] as? String ?? "", line: object["line"] as? Int ?? 0,
                                 id: object["id"] as? String, field: object["field"] as? String, detectors: object["detectors"] as? [String] ?? [],
                                 refID: best?["ref_id"] as? String, model: best?["model"] as? String, vendor: best?["vendor"] as? String,
                                 containment: (best?["containment"] as? NSNumber)?.doubleValue,
                                 spans: best?["spans"] as? [[Int]] ?? []))
        }
    }

    /// References matched most often, most first.
    public func topReferences(_ count: Int) -> [(String, String, Int)] {
        var tally: [String: (String, Int)] = [:]
        for entry in entries {
            guard let ref = entry.refID else { continue }
            tally[ref] = (entry.model ?? "", (tally[ref]?.1 ?? 0) + 1)
        }
        return tally.map { ($0.key, $0.value.0, $0.value.1) }
            .sorted { $0.2 != $1.2 ? $0.2 > $1.2 : $0.0 < $1.0 }
            .prefix(count).map { $0 }
    }

    /// Containment scores of the best matches in ten bins [0, 0.1), …, [0.9, 1].
    public var containmentHistogram: [Int] {
        var bins = [Int](repeating: 0, count: 10)
        for entry in entries { if let value = entry.containment { bins[min(9, Int(value * 10))] += 1 } }
        return bins
    }
}
