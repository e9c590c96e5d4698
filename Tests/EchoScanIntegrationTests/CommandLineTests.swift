import Foundation
import XCTest
import EchoScanTestSupport

/// The CLI's exit statuses and messages, on real files.
final class CommandLineTests: XCTestCase {
    func testExitStatuses() throws {
        let dir = try TestSupport.temporaryDirectory()
        let good = TestSupport.samples + "/corpus/shard-003.jsonl"
        XCTAssertEqual(try TestSupport.run(["stats", good]).status, 0)

        let missing = try TestSupport.run(["stats", good, dir + "/missing.jsonl"])
        XCTAssertEqual(missing.status, 3, "partial success")
        XCTAssertTrue(missing.error.contains("missing.jsonl: missing_file"), missing.error)
        XCTAssertTrue(missing.output.contains("shard-003.jsonl"), "the good shard is still reported")

        XCTAssertEqual(try TestSupport.run(["stats", "--max-line-bytes", "many", good]).status, 2, "usage error")
        XCTAssertEqual(try TestSupport.run(["frobnicate"]).status, 2, "usage error")
    }

    func testUnlistableDirectoryIsReportedEvenToRoot() throws {
        // Root reads every directory, so the test drops to `nobody` with util-linux's setpriv.
        let dir = try TestSupport.temporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir + "/locked", withIntermediateDirectories: true)
        try TestSupport.write([UInt8]("{\"text\":\"hidden\"}\n"), to: dir + "/locked/a.jsonl")
        try TestSupport.write([UInt8]("{\"text\":\"visible\"}\n"), to: dir + "/open.jsonl")
        try FileManager.default.setAttributes([.posixPermissions: 0o711], ofItemAtPath: dir)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: dir + "/open.jsonl")
        try FileManager.default.setAttributes([.posixPermissions: 0o000], ofItemAtPath: dir + "/locked")
        let result = try TestSupport.runUnprivileged(["stats", dir + "/locked", dir + "/open.jsonl"], directory: dir)
        XCTAssertEqual(result.status, 3, result.error)
        XCTAssertTrue(result.error.contains("locked: unreadable: cannot list directory: Permission denied"), result.error)
        XCTAssertTrue(result.output.contains("open.jsonl"), result.output)
    }

    func testCatPrintsDocumentsWithTheirOrigin() throws {
        let result = try TestSupport.run(["cat", TestSupport.samples + "/corpus/shard-002.jsonl.lz4"])
        XCTAssertEqual(result.status, 0, result.error)
        let first = try XCTUnwrap(result.output.split(separator: "\n").first)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
        XCTAssertEqual(object["line"] as? Int, 1)
        XCTAssertEqual(object["offset"] as? Int, 0)
        XCTAssertNotNil(object["text"] as? String)
    }

    func testIndexScanAndExplainThroughTheCLI() throws {
        let dir = try TestSupport.temporaryDirectory()
        let samples = TestSupport.samples
        let build = try TestSupport.run(["index", "build", "-o", dir + "/ref.idx", samples + "/references", "--background", samples + "/background"])
        XCTAssertEqual(build.status, 0, build.error)
        XCTAssertTrue(build.output.contains("320 references"), build.output)
        let info = try TestSupport.run(["index", "info", dir + "/ref.idx"])
        XCTAssertTrue(info.output.contains("openai: 240") && info.output.contains("google: 80"), info.output)

        let scan = try TestSupport.run(["scan", "--index", dir + "/ref.idx", "-o", dir + "/out", samples + "/corpus"],
                                       directory: TestSupport.repositoryRoot.path)
        XCTAssertEqual(scan.status, 0, scan.error)
        XCTAssertTrue(scan.output.contains("181 documents"), scan.output)
        let first = try XCTUnwrap(try TestSupport.lines(dir + "/out/manifest.jsonl").first { $0.contains("\"containment\"") })
        let record = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
        let refID = try XCTUnwrap((record["matches"] as? [[String: Any]])?.first?["ref_id"] as? String)
        let location = "\(try XCTUnwrap(record["shard"] as? String)):\(try XCTUnwrap(record["line"] as? Int))"
        let explain = try TestSupport.run(["explain", "--plain", "--index", dir + "/ref.idx", location],
                                          directory: TestSupport.repositoryRoot.path)
        XCTAssertEqual(explain.status, 0, explain.error)
        XCTAssertTrue(explain.output.contains("match \(refID)"), explain.output)
        XCTAssertTrue(explain.output.contains("[[") && explain.output.contains("]]"), explain.output)

        // A damaged byte in the metadata (the first section) is refused at open; one in the last
        // section (a bitmap read a little per document) is found by `index verify`.
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/ref.idx")))
        let sections = Int(original.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 12, as: UInt32.self) })
        let metadataOffset = original.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 56 + 8, as: UInt64.self) }
        XCTAssertEqual(original.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 56, as: UInt32.self) }, 1, "metadata comes first")
        XCTAssertGreaterThan(sections, 10)
        var bytes = original
        bytes[Int(metadataOffset) + 20] ^= 0x01
        try TestSupport.write(bytes, to: dir + "/damaged.idx")
        let refused = try TestSupport.run(["scan", "--index", dir + "/damaged.idx", "-o", dir + "/out2", samples + "/corpus"])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.error.contains("section metadata fails its checksum"), refused.error)
        bytes = original
        bytes[bytes.count - 10] ^= 0xFF
        try TestSupport.write(bytes, to: dir + "/tail.idx")
        let verify = try TestSupport.run(["index", "verify", dir + "/tail.idx"])
        XCTAssertEqual(verify.status, 1)
        XCTAssertTrue(verify.error.contains("fails its checksum"), verify.error)
        XCTAssertEqual(try TestSupport.run(["index", "verify", dir + "/ref.idx"]).status, 0)
    }

    /// A directory is walked for shard names only: a summary.json or notes beside the shards are
    /// named once each and not read (they were read as shards, one error per line).
    func testADirectoryWalkSkipsFilesThatAreNotShards() throws {
        let dir = try TestSupport.temporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir + "/corpus/more", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: TestSupport.samples + "/corpus/shard-003.jsonl", toPath: dir + "/corpus/shard-003.jsonl")
        try FileManager.default.copyItem(atPath: TestSupport.samples + "/chat/chat-001.parquet", toPath: dir + "/corpus/more/chat.parquet")
        try TestSupport.write([UInt8](#"{"shards": 2}"# + "\n"), to: dir + "/corpus/summary.json")
        try TestSupport.write([UInt8]("notes\n".utf8), to: dir + "/corpus/more/README.txt")
        let build = try TestSupport.run(["index", "build", "-o", dir + "/ref.idx", TestSupport.samples + "/references/fastchat__bard.jsonl"])
        XCTAssertEqual(build.status, 0, build.error)
        let scan = try TestSupport.run(["scan", "--index", dir + "/ref.idx", "-o", dir + "/out", "--format", "chat", "--report", dir + "/corpus"])
        // Every scan leaves metrics for cron, and the report when asked for.
        let metrics = try String(contentsOfFile: dir + "/out/metrics.prom", encoding: .utf8)
        XCTAssertTrue(metrics.contains("echoscan_documents_scanned{job=\"echoscan\"}"), metrics)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/out/report.html"))
        XCTAssertTrue(scan.error.contains("skipped \(dir)/corpus/summary.json: not a shard name"), scan.error)
        XCTAssertTrue(scan.error.contains("skipped \(dir)/corpus/more/README.txt"), scan.error)
        let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/out/summary.json"))) as? [String: Any])
        let shards = (summary["shards"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String }
        XCTAssertEqual(shards, [dir + "/corpus/more/chat.parquet", dir + "/corpus/shard-003.jsonl"])
        // The attribute files mirror the walk: attributes/echoscan/more/chat.jsonl.
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/out/attributes/echoscan/more/chat.jsonl"))
    }
}
