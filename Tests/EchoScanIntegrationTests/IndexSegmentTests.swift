import Foundation
import XCTest
import EchoScanTestSupport

/// `echoscan index add` and `index compact` on the bundled references: an index with a segment
/// scans as the index built whole, and compacts into it byte for byte.
final class IndexSegmentTests: XCTestCase {
    private func run(_ arguments: [String], in dir: String) throws -> TestSupport.Run {
        let result = try TestSupport.run(arguments, directory: dir)
        XCTAssertEqual(result.status, 0, "\(arguments.prefix(2)): \(result.error)")
        return result
    }

    /// The flagged documents of a scan and the references each was matched with.
    private func matches(_ manifest: String) throws -> [String: [String]] {
        var found: [String: [String]] = [:]
        for line in try TestSupport.lines(manifest) {
            let record = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let ids = try XCTUnwrap(record["matches"] as? [[String: Any]]).compactMap { $0["ref_id"] as? String }
            if !ids.isEmpty { found["\(record["shard"] ?? ""):\(record["line"] ?? "")"] = ids }
        }
        return found
    }

    func testAddedSegmentScansAsOneIndexAndCompactsIntoTheWholeBuild() throws {
        let dir = try TestSupport.temporaryDirectory()
        let samples = TestSupport.samples
        for file in ["arena-hard__gpt-4-0314.jsonl", "fastchat__bard.jsonl", "gsm8k__175b_finetuning.jsonl"] {
            try FileManager.default.copyItem(atPath: samples + "/references/" + file, toPath: dir + "/" + file)
        }
        try FileManager.default.copyItem(atPath: samples + "/background", toPath: dir + "/background")
        let base = ["arena-hard__gpt-4-0314.jsonl", "fastchat__bard.jsonl"]
        let added = "gsm8k__175b_finetuning.jsonl"
        _ = try run(["index", "build", "-o", "whole.idx"] + base + [added, "--background", "background"], in: dir)
        _ = try run(["index", "build", "-o", "segmented.idx"] + base + ["--background", "background"], in: dir)
        let add = try run(["index", "add", "--index", "segmented.idx", added], in: dir)
        XCTAssertTrue(add.output.contains("320 references in 2 segments"), add.output)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/segmented.idx.segment-1"))

        let info = try run(["index", "info", "segmented.idx"], in: dir)
        XCTAssertTrue(info.output.contains("segment 1 segmented.idx.segment-1: 120 references"), info.output)

        // The same documents flagged with the same references, whichever index.
        _ = try run(["scan", "--index", "whole.idx", "-o", "out-whole", samples + "/corpus"], in: dir)
        _ = try run(["scan", "--index", "segmented.idx", "-o", "out-segmented", samples + "/corpus"], in: dir)
        let whole = try matches(dir + "/out-whole/manifest.jsonl")
        XCTAssertTrue(whole.values.contains { $0.contains { $0.hasPrefix("gsm8k-test/") } }, "the corpus holds copies of the added references")
        XCTAssertEqual(try matches(dir + "/out-segmented/manifest.jsonl"), whole)
        let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/out-segmented/summary.json"))) as? [String: Any])
        let index = try XCTUnwrap(summary["index"] as? [String: Any])
        let segments = try XCTUnwrap(index["segments"] as? [[String: Any]])
        XCTAssertEqual(segments.map { $0["references"] as? Int }, [200, 120])
        XCTAssertEqual(segments.compactMap { $0["sha256"] as? String }.count, 2)

        // A segment whose bytes are not those its list records is refused, by name.
        let segmentPath = dir + "/segmented.idx.segment-1"
        let original = try Data(contentsOf: URL(fileURLWithPath: segmentPath))
        try FileManager.default.copyItem(atPath: dir + "/whole.idx", toPath: dir + "/swapped")
        try FileManager.default.removeItem(atPath: segmentPath)
        try FileManager.default.moveItem(atPath: dir + "/swapped", toPath: segmentPath)
        let refused = try TestSupport.run(["scan", "--index", "segmented.idx", "-o", "out-refused", samples + "/corpus"], directory: dir)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.error.contains("segmented.idx.segment-1") && refused.error.contains("SHA-256"), refused.error)
        try original.write(to: URL(fileURLWithPath: segmentPath))

        let compact = try run(["index", "compact", "segmented.idx"], in: dir)
        XCTAssertTrue(compact.output.contains("2 segments compacted into one"), compact.output)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/segmented.idx")),
                       try Data(contentsOf: URL(fileURLWithPath: dir + "/whole.idx")), "compacted = built whole")
        XCTAssertFalse(FileManager.default.fileExists(atPath: segmentPath))
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/segmented.idx.segments"))
    }

    /// A passage that a reference of the base index and one of an added segment share is a stock
    /// phrase of the whole index, as it is of an index built whole: a document holding only that
    /// passage is not flagged, though either index alone would flag it.
    func testRarityIsCountedOverAllSegments() throws {
        let dir = try TestSupport.temporaryDirectory()
        let references = try TestSupport.lines(TestSupport.samples + "/references/arena-hard__gpt-4-0314.jsonl")
            .map { try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        let texts = references.compactMap { $0["text"] as? String }.filter { $0.split(separator: " ").count >= 120 }
        XCTAssertGreaterThanOrEqual(texts.count, 3)
        let shared = texts[2]
        func write(_ records: [(id: String, text: String)], to name: String) throws {
            let lines = try records.map { record -> String in
                let object: [String: String] = ["id": record.id, "model": "gpt-4-0314", "text": record.text]
                return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
            }
            try TestSupport.write([UInt8](lines.joined(separator: "\n") + "\n"), to: dir + "/" + name)
        }
        try write([(id: "base/1", text: texts[0] + "\n\n" + shared)], to: "base.jsonl")
        try write([(id: "added/1", text: texts[1] + "\n\n" + shared)], to: "added.jsonl")
        try write([(id: "doc", text: shared)], to: "corpus.jsonl")
        _ = try run(["index", "build", "--no-style", "-o", "base.idx", "base.jsonl"], in: dir)
        _ = try run(["index", "build", "--no-style", "-o", "added-alone.idx", "added.jsonl"], in: dir)
        _ = try run(["index", "build", "--no-style", "-o", "whole.idx", "base.jsonl", "added.jsonl"], in: dir)
        for alone in ["base.idx", "added-alone.idx"] {
            _ = try run(["scan", "--index", alone, "-o", "out-" + alone, "corpus.jsonl"], in: dir)
            XCTAssertEqual(try matches(dir + "/out-\(alone)/manifest.jsonl").count, 1, "\(alone) alone flags the passage")
        }
        _ = try run(["scan", "--index", "whole.idx", "-o", "out-whole", "corpus.jsonl"], in: dir)
        XCTAssertEqual(try matches(dir + "/out-whole/manifest.jsonl").count, 0, "built whole, the passage is common")
        _ = try run(["index", "add", "--index", "base.idx", "added.jsonl"], in: dir)
        _ = try run(["scan", "--index", "base.idx", "-o", "out-segmented", "corpus.jsonl"], in: dir)
        XCTAssertEqual(try matches(dir + "/out-segmented/manifest.jsonl").count, 0, "with a segment, the passage is common too")

        _ = try run(["index", "build", "--no-style", "-o", "base.idx", "base.jsonl"], in: dir)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/base.idx.segments"), "a build replaces the index and its segments")
        _ = try run(["scan", "--index", "base.idx", "-o", "out-rebuilt", "corpus.jsonl"], in: dir)
        XCTAssertEqual(try matches(dir + "/out-rebuilt/manifest.jsonl").count, 1)
    }

    /// A pipeline's `index.add`: the listed files that the index was not built from are added as
    /// a segment before the scan, once.
    func testPipelineAddsNewReferenceFilesOnce() throws {
        let dir = try TestSupport.temporaryDirectory()
        let samples = TestSupport.samples
        try FileManager.default.createDirectory(atPath: dir + "/weekly", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: samples + "/references/fastchat__bard.jsonl", toPath: dir + "/weekly/bard.jsonl")
        let lines = [
            "version: 1",
            "job: weekly",
            "inputs: [\(samples)/corpus]",
            "index:",
            "  path: \(dir)/index/reference.idx",
            "  references: [\(samples)/references/arena-hard__gpt-4-0314.jsonl, \(samples)/references/gsm8k__175b_finetuning.jsonl]",
            "  add: [\(dir)/weekly]",
            "  background: [\(samples)/background]",
            "output: \(dir)/out",
            "stages: [scan]",
        ]
        try TestSupport.write([UInt8](lines.joined(separator: "\n") + "\n"), to: dir + "/pipeline.yaml")
        for _ in 0..<2 {
            let run = try TestSupport.run(["run", dir + "/pipeline.yaml"], directory: dir)
            XCTAssertEqual(run.status, 0, run.error)
        }
        let info = try run(["index", "info", dir + "/index/reference.idx"], in: dir)
        XCTAssertTrue(info.output.contains("1 added") && info.output.contains("reference.idx.segment-1: 80 references"), info.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/index/reference.idx.segment-2"), "added once")
        XCTAssertTrue(try matches(dir + "/out/manifest.jsonl").values.contains { $0.contains { $0.hasPrefix("fastchat-vicuna80/bard") } },
                      "the corpus's copies of the added references are found")
    }
}
