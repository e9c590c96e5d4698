import EchoScan
import Foundation
import XCTest

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
        return try ContaminationScanner(request: ScanRequest(inputs: inputs, indexPath: try index(), outputDirectory: output,
                                                             configuration: configuration)).run()
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
        XCTAssertEqual(summary.status, "ok")
        XCTAssertEqual(summary.totals.documents, 181)
        let labels = try TestSupport.lines(TestSupport.samples + "/labels.jsonl").map {
            try JSONDecoder().decode(Label.self, from: Data($0.utf8))
        }
        var flagged: [String: String] = [:]
        for line in try TestSupport.lines(output + "/manifest.jsonl") {
            let record = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let matches = try XCTUnwrap(record["matches"] as? [[String: Any]])
            if let best = matches.first { flagged[try XCTUnwrap(record["id"] as? String)] = best["model"] as? String }
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
        let falsePositives = negatives.filter { flagged[$0.id] != nil }
        XCTAssertLessThanOrEqual(falsePositives.count, 2, "\(falsePositives.map(\.id))")
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
        for span in spans {
            XCTAssertLessThan(span[0], span[1])
            XCTAssertLessThanOrEqual(span[1], text.count)
        }
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(match["matched_words"] as? Int), 25)
    }

    /// Two answers that both repeat their prompt's text are near-duplicates by MinHash, yet
    /// neither is the other's source: with the prompt's k-grams common, the verification covers
    /// almost none of the document, and `min_doc_coverage` keeps it unflagged — as it does a copy
    /// of such a reference, in which nothing is the model's own. A copy of a reference in its own
    /// words is still flagged.
    func testAnswersThatRepeatTheirPromptAreNotNearDuplicates() throws {
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

        func flagged(minimumCoverage: Double) throws -> [String: [String]] {
            var configuration = try PipelineConfiguration.load(path: TestSupport.repositoryRoot.path + "/pipelines/default.yaml")
            configuration.match.nearDuplicate.minimumDocumentCoverage = minimumCoverage
            let output = dir + "/out-\(minimumCoverage)"
            _ = try ContaminationScanner(request: ScanRequest(inputs: [dir + "/corpus.jsonl"], indexPath: dir + "/reference.idx",
                                                              outputDirectory: output, configuration: configuration)).run()
            var result: [String: [String]] = [:]
            for record in try TestSupport.lines(output + "/manifest.jsonl") {
                let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(record.utf8)) as? [String: Any])
                result[try XCTUnwrap(object["id"] as? String)] = object["detectors"] as? [String]
            }
            return result
        }
        let plain = try flagged(minimumCoverage: 0)
        XCTAssertEqual(plain["other-answer"], ["near_duplicate"], "MinHash alone calls the other answer a near-duplicate")
        let defaults = try flagged(minimumCoverage: MatchOptions().nearDuplicate.minimumDocumentCoverage)
        XCTAssertNil(defaults["other-answer"], "\(defaults)")
        XCTAssertNil(defaults["copy-of-prompt-answer"], "\(defaults)")
        XCTAssertEqual(defaults["copy"], ["near_duplicate", "containment"], "\(defaults)")
    }

    /// A copy shares whole passages with its reference, edits and all; another answer to the same
    /// prompt shares runs of words here and there. A document that holds every word of a reference
    /// in order, in runs of 12 with four other words between them (passages bridge three),
    /// covers the reference but has no passage of `min_span_words`: flagged only when that
    /// condition is off. The same reference with one word in ten replaced is flagged.
    func testScatteredRunsAreNotACopyButAnEditedPassageIs() throws {
        let dir = try TestSupport.temporaryDirectory()
        let human = try TestSupport.lines(TestSupport.samples + "/background/human.jsonl").map {
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])["text"] as? String ?? ""
        }
        let long = human.map { $0.split(whereSeparator: \.isWhitespace).map(String.init) }.filter { $0.count >= 150 }
        XCTAssertGreaterThanOrEqual(long.count, 2)
        let reference = long[0], filler = long[1]
        var scattered: [String] = []
        var edited: [String] = []
        for (position, word) in reference.enumerated() {
            scattered.append(word)
            if position % 12 == 11 { scattered += filler[(position % filler.count)...].prefix(4) }
            edited.append(position % 10 == 5 ? filler[position % filler.count] : word)
        }
        func line(_ object: [String: String]) throws -> String {
            String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        }
        try TestSupport.write([UInt8]((try line(["id": "ref", "text": reference.joined(separator: " "), "model": "model-a",
                                                 "vendor": "vendor-a"]) + "\n").utf8), to: dir + "/references.jsonl")
        _ = try IndexBuilder().build(references: [dir + "/references.jsonl"], output: dir + "/reference.idx")
        let corpus = [try line(["id": "scattered", "text": scattered.joined(separator: " ")]),
                      try line(["id": "edited", "text": edited.joined(separator: " ")])]
        try TestSupport.write([UInt8]((corpus.joined(separator: "\n") + "\n").utf8), to: dir + "/corpus.jsonl")

        func flagged(minimumSpanWords: Int) throws -> Set<String> {
            var configuration = try PipelineConfiguration.load(path: TestSupport.repositoryRoot.path + "/pipelines/default.yaml")
            configuration.match.containment.minimumSpanWords = minimumSpanWords
            let output = dir + "/out-\(minimumSpanWords)"
            _ = try ContaminationScanner(request: ScanRequest(inputs: [dir + "/corpus.jsonl"], indexPath: dir + "/reference.idx",
                                                              outputDirectory: output, configuration: configuration)).run()
            return Set(try TestSupport.lines(output + "/manifest.jsonl").map {
                try XCTUnwrap(try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])["id"] as? String)
            })
        }
        XCTAssertEqual(try flagged(minimumSpanWords: 0), ["scattered", "edited"])
        XCTAssertEqual(try flagged(minimumSpanWords: MatchOptions().containment.minimumSpanWords), ["edited"])
    }

    func testOutputIsByteIdenticalForEveryThreadCount() throws {
        let one = try TestSupport.temporaryDirectory()
        let two = try TestSupport.temporaryDirectory()
        let summary = try scan(threads: 1, into: one)
        _ = try scan(threads: 2, into: two)
        for file in ["manifest.jsonl", "attributes/shard-000.jsonl", "attributes/shard-003.jsonl"] {
            let a = try Data(contentsOf: URL(fileURLWithPath: one + "/" + file))
            let b = try Data(contentsOf: URL(fileURLWithPath: two + "/" + file))
            XCTAssertFalse(a.isEmpty, file)
            XCTAssertEqual(a, b, file)
        }
        let attributes = try TestSupport.lines(one + "/attributes/shard-001.jsonl")
        XCTAssertEqual(attributes.count, summary.shards[1].counts.documents, "one attribute line per document")
    }

    func testBadShardIsReportedAndTheOthersFinish() throws {
        let dir = try TestSupport.temporaryDirectory()
        let corpus = TestSupport.samples + "/corpus"
        let good = try Data(contentsOf: URL(fileURLWithPath: corpus + "/shard-000.jsonl.zst"))
        try good.prefix(good.count / 2).write(to: URL(fileURLWithPath: dir + "/broken.jsonl.zst"))
        let output = dir + "/out"
        let summary = try scan(threads: 2, into: output, inputs: [corpus + "/shard-003.jsonl", dir + "/broken.jsonl.zst"])
        XCTAssertEqual(summary.status, "partial")
        XCTAssertEqual(summary.shards.map(\.status), ["ok", "failed"])
        XCTAssertTrue(summary.shards[1].error?.contains("truncated_stream") ?? false)
        XCTAssertGreaterThan(summary.shards[0].counts.flagged, 0)
        XCTAssertEqual(summary.shards[0].sha256?.count, 64)
        let leftovers = try FileManager.default.subpathsOfDirectory(atPath: output).filter { $0.contains(".tmp-") }
        XCTAssertEqual(leftovers, [], "no temporary file is left behind")
    }
}
