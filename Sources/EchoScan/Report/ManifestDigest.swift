import Foundation

/// What the reports need from a manifest: per-document best matches, read back from manifest.jsonl.
public struct ManifestDigest: Sendable {
    /// One flagged document of a manifest: where it is and what it matched.
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

    /// The fields of a manifest line that the digest reads (the writer is `ScanRecordWriter`;
    /// docs/DESIGN.md lists them all).
    struct Line: Decodable {
        struct Match: Decodable {
            var refID: String?
            var model: String?
            var vendor: String?
            var containment: Double?
            var spans: [[Int]]?

            enum CodingKeys: String, CodingKey { case refID = "ref_id", model, vendor, containment, spans }
        }

        var shard: String
        var line: Int
        var id: String?
        var field: String?
        var detectors: [String]
        var matches: [Match]
    }

    public init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AtomicFile.Error(path: path, reason: "cannot read the manifest")
        }
        let decoder = JSONDecoder()
        for (number, line) in data.split(separator: 0x0A).enumerated() {
            let record: Line
            do {
                record = try decoder.decode(Line.self, from: Data(line))
            } catch {
                throw AtomicFile.Error(path: path, reason: "line \(number + 1) is not a manifest record: \(error)")
            }
            let best = record.matches.first
            entries.append(Entry(shard: record.shard, line: record.line, id: record.id, field: record.field, detectors: record.detectors,
                                 refID: best?.refID, model: best?.model, vendor: best?.vendor, containment: best?.containment,
                                 spans: best?.spans ?? []))
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
