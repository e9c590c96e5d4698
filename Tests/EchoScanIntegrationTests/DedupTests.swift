import EchoScan
import Foundation
import XCTest
import EchoScanTestSupport

/// Deduplication on real text with planted duplicates of known kinds.
final class DedupTests: XCTestCase {
    struct Planted {
        var shards: [String]
        /// (duplicate id, original id)
        var duplicates: [(String, String)]
        /// How many of them are equal to their original after normalization.
        var exact: Int
    }

    /// Two shards of real GPT-4 answers; shard B holds an exact copy, a reformatted copy (equal
    /// after normalization) and a copy with one word in a hundred changed of some of shard A.
    func plant(in dir: String) throws -> Planted {
        let lines = try TestSupport.lines(TestSupport.samples + "/references/arena-hard__gpt-4-0314.jsonl").prefix(60)
        let texts = try lines.map { line -> String in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return try XCTUnwrap(object?["text"] as? String)
        }.filter { $0.split(separator: " ").count > 120 }
        func record(_ id: String, _ text: String) throws -> String {
            String(decoding: try JSONSerialization.data(withJSONObject: ["id": id, "text": text], options: [.sortedKeys]), as: UTF8.self)
        }
        var a: [String] = []
        var b: [String] = []
        var duplicates: [(String, String)] = []
        var exact = 0
        for (index, text) in texts.enumerated() {
            a.append(try record("a\(index)", text))
            switch index % 4 {
            case 0:
                b.append(try record("b\(index)", text))
                duplicates.append(("b\(index)", "a\(index)"))
                exact += 1
            case 1:
                let reformatted = text.uppercased().replacingOccurrences(of: "\"", with: "\u{201C}").replacingOccurrences(of: " ", with: "  ")
                b.append(try record("b\(index)", reformatted))
                duplicates.append(("b\(index)", "a\(index)"))
                exact += 1
            case 2:
                var words = text.split(separator: " ").map(String.init)
                for position in stride(from: 50, to: words.count, by: 100) { words[position] = "zebra" }
                b.append(try record("b\(index)", words.joined(separator: " ")))
                duplicates.append(("b\(index)", "a\(index)"))
            default:
                break // no copy: a unique document
            }
        }
        let shardA = dir + "/a.jsonl.zst"
        let shardB = dir + "/b.jsonl.gz"
        try TestSupport.write(TestSupport.zstd([UInt8](a.joined(separator: "\n") + "\n")), to: shardA)
        try TestSupport.write(TestSupport.gzip([UInt8](b.joined(separator: "\n") + "\n")), to: shardB)
        return Planted(shards: [shardA, shardB], duplicates: duplicates, exact: exact)
    }

    func testPlantedDuplicatesAreClusteredAndTheFirstIsKept() throws {
        let dir = try TestSupport.temporaryDirectory()
        let planted = try plant(in: dir)
        var configuration = PipelineConfiguration()
        configuration.threads = 2
        let summary = try TestSupport.dedup(planted.shards, output: dir + "/out", configuration: configuration)
        XCTAssertEqual(summary.status, .ok)
        XCTAssertEqual(summary.totals.duplicates, planted.duplicates.count)
        XCTAssertEqual(summary.totals.exactDuplicates, planted.exact)
        XCTAssertEqual(summary.shards[0].counts.duplicates, 0, "the originals come first and are kept")

        var removed: [String: String] = [:]
        for line in try TestSupport.lines(dir + "/out/remove/b.jsonl") {
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let original = try XCTUnwrap(object["duplicate_of"] as? [String: Any])
            removed[try XCTUnwrap(object["id"] as? String)] = original["id"] as? String
        }
        XCTAssertEqual(removed, Dictionary(uniqueKeysWithValues: planted.duplicates))
        XCTAssertEqual(try TestSupport.lines(dir + "/out/clusters.jsonl").count, planted.duplicates.count)
    }

    func testRerunSkipsFinishedTasksAndRedoesUnfinishedOnes() throws {
        let dir = try TestSupport.temporaryDirectory()
        let planted = try plant(in: dir)
        var configuration = PipelineConfiguration()
        configuration.threads = 2
        let request = DedupRequest(inputs: planted.shards, outputDirectory: dir + "/out", configuration: configuration)
        _ = try TestSupport.dedup(planted.shards, output: dir + "/out", configuration: configuration)
        let first = try Data(contentsOf: URL(fileURLWithPath: dir + "/out/clusters.jsonl"))

        // An interrupted run: one band's pairs and marker are gone, and the later stages' too.
        let stages = Deduplicator(request: request).stages()
        try FileManager.default.removeItem(atPath: dir + "/out/buckets/000003.pairs")
        try FileManager.default.removeItem(atPath: dir + "/out/buckets/000003.done")
        try FileManager.default.removeItem(atPath: dir + "/out/clusters/000000.done")
        XCTAssertTrue(stages[0].isDone(0) && stages[0].isDone(1))
        XCTAssertFalse(stages[1].isDone(3))
        XCTAssertTrue(stages[1].isDone(2))

        let log = LockedLines()
        _ = try TestSupport.dedup(planted.shards, output: dir + "/out", configuration: configuration, log: { log.append($0) })
        XCTAssertTrue(log.lines.contains("signatures: 2 of 2 tasks already done, skipped"), "\(log.lines)")
        XCTAssertTrue(log.lines.contains { $0.hasPrefix("buckets: \(stages[1].taskCount - 1) of") }, "\(log.lines)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/out/buckets/000003.pairs"))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/out/clusters.jsonl")), first)

        // Other parameters make every marker stale.
        var stricter = PipelineConfiguration()
        stricter.dedup.parameters.nearDuplicateThreshold = 0.95
        let changed = Deduplicator(request: DedupRequest(inputs: planted.shards, outputDirectory: dir + "/out", configuration: stricter))
        XCTAssertFalse(changed.stages()[0].isDone(0))
    }

    /// The cluster stage writes a membership record for the clustered documents only; a damaged
    /// membership file stops the shard's decision task with an error that names it.
    func testMembershipHoldsOnlyClusteredDocumentsAndADamagedOneIsNamed() throws {
        let dir = try TestSupport.temporaryDirectory()
        let planted = try plant(in: dir)
        let summary = try TestSupport.dedup(planted.shards, output: dir + "/out")
        let members = dir + "/out/clusters/000001.members"
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: members)))
        // Shard b holds the planted copies, each a duplicate; of shard a, only their originals
        // (kept) have a record.
        XCTAssertEqual(bytes.count, 16 + 24 * summary.shards[1].counts.duplicates)
        let originals = try Data(contentsOf: URL(fileURLWithPath: dir + "/out/clusters/000000.members")).count
        XCTAssertEqual(originals, 16 + 24 * Set(planted.duplicates.map(\.1)).count)
        XCTAssertLessThan(Set(planted.duplicates.map(\.1)).count, summary.shards[0].counts.documents)
        try TestSupport.write(Array(bytes.dropLast(5)), to: members)
        try FileManager.default.removeItem(atPath: dir + "/out/decisions/000001.done")
        var configuration = PipelineConfiguration()
        configuration.inputs = planted.shards
        configuration.stages = [.dedup]
        let decisions = try XCTUnwrap(try PipelineRunner(configuration: configuration, output: dir + "/out").stages(only: .decisions).first)
        XCTAssertThrowsError(try decisions.run(task: 1)) { error in
            XCTAssertEqual("\(error)", "stage decisions, task 1: \(members): truncated membership file")
        }
    }

    func testExternalSortSpillsRunsAndGivesTheSameResult() throws {
        let dir = try TestSupport.temporaryDirectory()
        let planted = try plant(in: dir)
        var tiny = PipelineConfiguration()
        tiny.dedup.sortRunEntries = 16  // several runs on disk per band
        tiny.threads = 1
        let spilled = try TestSupport.dedup(planted.shards, output: dir + "/spilled", configuration: tiny)
        var twoThreads = PipelineConfiguration()
        twoThreads.threads = 2
        let inMemory = try TestSupport.dedup(planted.shards, output: dir + "/memory", configuration: twoThreads)
        XCTAssertEqual(spilled.totals, inMemory.totals)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/spilled/clusters.jsonl")),
                       try Data(contentsOf: URL(fileURLWithPath: dir + "/memory/clusters.jsonl")))
    }
}
