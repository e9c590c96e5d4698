import ArgumentParser
import EchoScan
import Foundation

struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "What changed between two scans or audits: new flags, cleared flags, flagged-rate changes per shard.")

    @Argument(help: "The older output directory.")
    var old: String

    @Argument(help: "The newer output directory.")
    var new: String

    func run() throws {
        let before = try ManifestDigest(path: old + "/manifest.jsonl")
        let after = try ManifestDigest(path: new + "/manifest.jsonl")
        func key(_ entry: ManifestDigest.Entry) -> String { "\(entry.shard):\(entry.line)" }
        let oldKeys = Dictionary(before.entries.map { (key($0), $0) }, uniquingKeysWith: { first, _ in first })
        let newKeys = Dictionary(after.entries.map { (key($0), $0) }, uniquingKeysWith: { first, _ in first })
        let added = after.entries.filter { oldKeys[key($0)] == nil }
        let cleared = before.entries.filter { newKeys[key($0)] == nil }
        let changed = after.entries.filter { entry in oldKeys[key(entry)].map { $0.refID != entry.refID } ?? false }
        print("new flags: \(added.count)")
        for entry in added.prefix(20) { print("  + \(key(entry)) \(entry.refID ?? "marker") (\(entry.model ?? entry.detectors.joined(separator: ",")))") }
        print("cleared flags: \(cleared.count)")
        for entry in cleared.prefix(20) { print("  - \(key(entry)) \(entry.refID ?? "marker")") }
        print("best match changed: \(changed.count)")
        let decoder = JSONDecoder()
        let oldSummary = try decoder.decode(ScanSummary.self, from: Data(contentsOf: URL(fileURLWithPath: old + "/summary.json")))
        let newSummary = try decoder.decode(ScanSummary.self, from: Data(contentsOf: URL(fileURLWithPath: new + "/summary.json")))
        func rates(_ summary: ScanSummary) -> [String: Double] {
            Dictionary(summary.shards.map { ($0.path, Double($0.counts.flagged) / Double(max($0.counts.documents, 1))) },
                       uniquingKeysWith: { first, _ in first })
        }
        let oldRates = rates(oldSummary)
        print("flagged rate per shard (old → new):")
        for (path, rate) in rates(newSummary).sorted(by: { $0.key < $1.key }) {
            let previous = oldRates[path].map { String(format: "%.4f", $0) } ?? "new shard"
            print("  \(path): \(previous) → \(String(format: "%.4f", rate))")
        }
        if let newStyle = newSummary.style {
            // A nightly scan drifting towards one vendor's style shows here.
            let oldShares = Dictionary((oldSummary.style?.totals.shares ?? []).map { ($0.style, $0.share) }, uniquingKeysWith: { first, _ in first })
            print("style shares (old → new, documents of \(newStyle.minimumWords) words or more):")
            for share in newStyle.totals.shares {
                let previous = oldShares[share.style].map { String(format: "%.4f", $0) } ?? "–"
                print("  \(share.style): \(previous) → \(String(format: "%.4f", share.share)) [\(String(format: "%.4f", share.low))–\(String(format: "%.4f", share.high))]")
            }
        }
        if oldSummary.index.sha256 != newSummary.index.sha256 { print("note: the two scans used different indexes") }
    }
}
