import EchoScan
import Foundation
import XCTest
import EchoScanTestSupport

/// The scan end to end on the bundled sample corpus, through the library and the CLI.
final class ScanTests: XCTestCase {
    /// Built once for the class; XCTest runs the tests one at a time.
    nonisolated(unsafe) static var indexPath: String?

    func index() throws -> String {
        if let path = Self.indexPath { return path }
        let dir = try TestSupport.temporaryDirectory("index")
        let path = dir + "/reference.idx"
        let references = try FileManager.default.contentsOfDirectory(atPath: TestSupport.samples + "/references")
            .sorted().map { TestSupport.samples + "/references/" + $0 }
        _ = try IndexBuilder().build(references: references, background: [TestSupport.samples + "/background/human.jsonl"], output: path)
        Self.indexPath = path
        return path
    }

    func scan(threads: Int, into output: String, inputs: [String] = [TestSupport.samples + "/corpus"]) throws -> ScanSummary {
        var configuration = try PipelineConfiguration.load(path: TestSupport.repositoryRoot.path + "/pipelines/default.yaml")
        configuration.threads = threads
        return try TestSupport.scan(inputs, index: try index(), output: output, configuration: configuration)
    }

    struct Label: Decodable {
        var id: String
        var label: String
        var kind: String
        var model: String?
    }

    func testPlantedCopiesAreFoundAndNegativesAreNot() throws {
        let output = try TestSupport.temporaryDirectory()
        let summary = try scan(threads: 2, into: output)
        XCTAssertEqual(summary.status, .ok)
        XCTAssertEqual(summary.totals.documents, 181)
        let labels = try TestSupport.lines(TestSupport.samples + "/labels.jsonl").map {
            try JSONDecoder().decode(Label.self, from: Data($0.utf8))
        }
        var flagged: [String: String] = [:]
        var matchedWords: [String: Int] = [:]
        for line in try TestSupport.lines(output + "/manifest.jsonl") {
            let record = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let matches = try XCTUnwrap(record["matches"] as? [[String: Any]])
            guard let best = matches.first else { continue }
            let id = try XCTUnwrap(record["id"] as? String)
            flagged[id] = best["model"] as? String
            matchedWords[id] = best["matched_words"] as? Int
        }
        let positives = labels.filter { $0.label == "positive" }
        let negatives = labels.filter { $0.label == "negative" }
        let found = positives.filter { flagged[$0.id] != nil }
        XCTAssertGreaterThanOrEqual(Double(found.count) / Double(positives.count), 0.95, "recall on the sample corpus")
        XCTAssertTrue(found.allSatisfy { flagged[$0.id] == $0.model }, "the top match names the source model")
        for kind in ["exact", "edited", "reformatted", "chat", "embedded"] {
            let planted = positives.filter { $0.kind == kind }
            XCTAssertGreaterThanOrEqual(planted.filter { flagged[$0.id] != nil }.count, planted.count - 1, kind)
        }
        // Human and web text, and one-line answers, are never copies.
        let unrelated = negatives.filter { $0.kind != "other_model" && flagged[$0.id] != nil }
        XCTAssertEqual(unrelated.map(\.id), [])
        // Sibling models' answers to the same prompts (gpt-4-0613 and gpt-3.5-turbo-0125 against
        // gpt-4-0314) may be reported, but only for a passage they truly share.
        for negative in negatives where negative.kind == "other_model" {
            guard let matched = matchedWords[negative.id] else { continue }
            XCTAssertGreaterThanOrEqual(matched, 30, negative.id)
        }
    }

    func testManifestSpansPointAtTheCopiedText() throws {
        let output = try TestSupport.temporaryDirectory()
        _ = try scan(threads: 1, into: output)
        let line = try XCTUnwrap(try TestSupport.lines(output + "/manifest.jsonl").first { $0.contains("\"containment\"") })
        let record = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let shard = try XCTUnwrap(record["shard"] as? String)
        let lineNumber = try XCTUnwrap(record["line"] as? Int)
        var text: [UInt8] = []
        _ = ShardReader(path: shard).read { batch in
            if let document = batch.documents.first(where: { $0.line == lineNumber }) { text = Array(batch.bytes[document.textRange]) }
        }
        let match = try XCTUnwrap((record["matches"] as? [[String: Any]])?.first)
        let spans = try XCTUnwrap(match["spans"] as? [[Int]])
        XCTAssertFalse(spans.isEmpty)
        // The text inside each span is the reference's: nearly all of its words are the
        // reference's words (a planted copy may have a few edited).
        let index = try ReferenceIndex(path: try self.index())
        let refID = try XCTUnwrap(match["ref_id"] as? String)
        let number = try XCTUnwrap((0..<index.referenceCount).first { index.reference($0).id == refID })
        func words(_ text: String) -> [String] {
            text.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init)
        }
        let referenceWords = Set(words(try XCTUnwrap(index.text(ofReference: number))))
        for span in spans {
            XCTAssertLessThan(span[0], span[1])
            XCTAssertLessThanOrEqual(span[1], text.count)
            let inside = words(String(decoding: text[span[0]..<span[1]], as: UTF8.self))
            XCTAssertGreaterThan(inside.count, 10)
            let shared = inside.filter(referenceWords.contains).count
            XCTAssertGreaterThanOrEqual(Double(shared) / Double(inside.count), 0.8, "span \(span) is not the reference's text")
        }
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(match["matched_words"] as? Int), 25)
    }

    /// Two answers that both repeat their prompt's text are near-duplicates by MinHash, yet
    /// neither is the other's source: with the prompt's k-grams common, their alignment holds no
    /// evidence, and a copy of such a reference, in which nothing is the model's own, holds none
    /// either. A copy of a reference in its own words is found, and labelled a near-duplicate.
    func testAnswersThatRepeatTheirPromptAreNotCopies() throws {
        let dir = try TestSupport.temporaryDirectory()
        let human = try TestSupport.lines(TestSupport.samples + "/background/human.jsonl").map {
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])["text"] as? String ?? ""
        }
        let long = human.filter { $0.split(separator: " ").count >= 150 }
        XCTAssertGreaterThanOrEqual(long.count, 2)
        let prompt = long[0]
        func line(_ object: [String: String]) throws -> String {
            String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        }
        let reference = "Here is the text with the grammar corrected:\n\n" + prompt + "\n\nLet me know if you need anything else."
        let references = [
            try line(["id": "ref-1", "text": reference, "model": "model-a", "vendor": "vendor-a",
                      "prompt": "Correct the grammar of this text: " + prompt]),
            try line(["id": "ref-2", "text": long[1], "model": "model-a", "vendor": "vendor-a", "prompt": "Tell me a story."]),
        ]
        try TestSupport.write([UInt8]((references.joined(separator: "\n") + "\n").utf8), to: dir + "/references.jsonl")
        _ = try IndexBuilder().build(references: [dir + "/references.jsonl"], output: dir + "/reference.idx")
        let corpus = [try line(["id": "other-answer", "text": "Sure! Corrected version below.\n\n" + prompt + "\n\nHope this helps."]),
                      try line(["id": "copy-of-prompt-answer", "text": reference]),
                      try line(["id": "copy", "text": long[1]])]
        try TestSupport.write([UInt8]((corpus.joined(separator: "\n") + "\n").utf8), to: dir + "/corpus.jsonl")

        /// Per document, the best match's detectors and false-match probability.
        func scan(maximumFalseMatchRate: Double) throws -> [String: ([String], Double)] {
            var configuration = try PipelineConfiguration.load(path: TestSupport.repositoryRoot.path + "/pipelines/default.yaml")
            configuration.match.maximumFalseMatchRate = maximumFalseMatchRate
            let output = dir + "/out-\(maximumFalseMatchRate)"
            _ = try TestSupport.scan([dir + "/corpus.jsonl"], index: dir + "/reference.idx", output: output, configuration: configuration)
            var result: [String: ([String], Double)] = [:]
            for record in try TestSupport.lines(output + "/manifest.jsonl") {
                let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(record.utf8)) as? [String: Any])
                guard let best = (object["matches"] as? [[String: Any]])?.first else { continue }
                result[try XCTUnwrap(object["id"] as? String)] = (try XCTUnwrap(best["detectors"] as? [String]),
                                                                   try XCTUnwrap(best["false_match_probability"] as? Double))
            }
            return result
        }
        let everything = try scan(maximumFalseMatchRate: 1)
        let other = try XCTUnwrap(everything["other-answer"], "MinHash finds the other answer as a candidate")
        XCTAssertEqual(other.0, ["near_duplicate", "containment"], "MinHash alone calls the other answer a near-duplicate")
        XCTAssertGreaterThan(other.1, 0.001)
        let defaults = try scan(maximumFalseMatchRate: MatchOptions().maximumFalseMatchRate)
        XCTAssertNil(defaults["other-answer"])
        XCTAssertNil(defaults["copy-of-prompt-answer"])
        XCTAssertEqual(defaults["copy"]?.0, ["near_duplicate", "containment"])
        XCTAssertLessThan(try XCTUnwrap(defaults["copy"]).1, 1e-6)
    }

    func testOutputIsByteIdenticalForEveryThreadCount() throws {
        let one = try TestSupport.temporaryDirectory()
        let two = try TestSupport.temporaryDirectory()
        let summary = try scan(threads: 1, into: one)
        _ = try scan(threads: 2, into: two)
        for file in ["manifest.jsonl", "attributes/echoscan/shard-000.jsonl.zst", "attributes/echoscan/shard-002.jsonl.lz4",
                     "attributes/echoscan/shard-003.jsonl"] {
            let a = try Data(contentsOf: URL(fileURLWithPath: one + "/" + file))
            let b = try Data(contentsOf: URL(fileURLWithPath: two + "/" + file))
            XCTAssertFalse(a.isEmpty, file)
            XCTAssertEqual(a, b, file)
        }
        // Each attribute file has its shard's compression, as Dolma's mixer expects.
        for (number, name) in ["shard-000.jsonl.zst", "shard-001.jsonl.gz", "shard-002.jsonl.lz4", "shard-003.jsonl"].enumerated() {
            let attributes = try TestSupport.decompressedLines(one + "/attributes/echoscan/" + name)
            XCTAssertEqual(attributes.count, summary.shards[number].counts.documents, "one attribute line per document of \(name)")
            XCTAssertTrue(attributes.allSatisfy { $0.hasPrefix(#"{"id":"#) }, name)
        }
    }

    func testBadShardIsReportedAndTheOthersFinish() throws {
        let dir = try TestSupport.temporaryDirectory()
        let corpus = TestSupport.samples + "/corpus"
        let good = try Data(contentsOf: URL(fileURLWithPath: corpus + "/shard-000.jsonl.zst"))
        try good.prefix(good.count / 2).write(to: URL(fileURLWithPath: dir + "/broken.jsonl.zst"))
        let output = dir + "/out"
        let summary = try scan(threads: 2, into: output, inputs: [corpus + "/shard-003.jsonl", dir + "/broken.jsonl.zst"])
        XCTAssertEqual(summary.status, .partial)
        XCTAssertEqual(summary.shards.map(\.status), [.ok, .failed])
        XCTAssertTrue(summary.shards[1].error?.contains("truncated_stream") ?? false)
        XCTAssertGreaterThan(summary.shards[0].counts.flagged, 0)
        XCTAssertEqual(summary.shards[0].sha256?.count, 64)
        let leftovers = try FileManager.default.subpathsOfDirectory(atPath: output).filter { $0.contains(".tmp-") }
        XCTAssertEqual(leftovers, [], "no temporary file is left behind")
    }
}
