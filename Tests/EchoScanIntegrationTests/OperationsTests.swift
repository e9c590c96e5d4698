import EchoScan
import Foundation
import XCTest
import EchoScanTestSupport

/// `run`, `audit`, reports, metrics and `diff` on the bundled samples, through the CLI.
final class OperationsTests: XCTestCase {
    func pipeline(in dir: String, stages: String, maxFlagged: Int) throws -> String {
        try TestSupport.samplePipeline(in: dir, job: "test-audit", stages: stages,
                                       extra: ["output: \(dir)/out", "audit:", "  max_flagged: \(maxFlagged)"],
                                       name: "pipeline-\(maxFlagged).yaml")
    }

    func testAuditGatesOnTheFlaggedCount() throws {
        let dir = try TestSupport.temporaryDirectory()
        let failing = try TestSupport.run(["audit", try pipeline(in: dir, stages: "dedup, scan, report", maxFlagged: 10)])
        XCTAssertEqual(failing.status, 1, failing.error)
        XCTAssertTrue(failing.output.contains("audit FAILED: 73 flagged documents exceed the limit of 10"), failing.output)
        XCTAssertTrue(failing.output.contains("vendor openai"), failing.output)
        XCTAssertTrue(failing.output.contains("unique documents"), failing.output)

        let passing = try TestSupport.run(["audit", try pipeline(in: dir, stages: "scan, report", maxFlagged: 1000), "-o", dir + "/second"])
        XCTAssertEqual(passing.status, 0, passing.error)
        XCTAssertTrue(passing.output.contains("audit passed"), passing.output)

        let metrics = try String(contentsOfFile: dir + "/second/metrics.prom", encoding: .utf8)
        XCTAssertTrue(metrics.contains("echoscan_documents_scanned{job=\"test-audit\"} 181"), metrics)
        XCTAssertTrue(metrics.contains("echoscan_documents_flagged_by_vendor{job=\"test-audit\",vendor=\"google\"} 20"), metrics)
        XCTAssertTrue(metrics.contains("echoscan_last_success_timestamp_seconds"), metrics)

        let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/out/summary.json"))) as? [String: Any])
        let unique = try XCTUnwrap(summary["deduplication"] as? [String: Any])
        XCTAssertEqual(unique["unique_documents"] as? Int, 179)

        let diff = try TestSupport.run(["diff", dir + "/out", dir + "/second"])
        XCTAssertEqual(diff.status, 0, diff.error)
        XCTAssertTrue(diff.output.contains("new flags: 0") && diff.output.contains("cleared flags: 0"), diff.output)

        let markdown = try String(contentsOfFile: dir + "/out/report.md", encoding: .utf8)
        XCTAssertTrue(markdown.contains("| openai | 53 |"), markdown)
        XCTAssertTrue(markdown.contains("**"), "samples are highlighted")
    }

    /// The pipeline's index section carries the build's knobs to the index it builds, and an index
    /// of an older format version is built again from the references the pipeline names.
    func testPipelineIndexSectionSetsTheBuild() throws {
        let dir = try TestSupport.temporaryDirectory()
        let samples = TestSupport.samples
        func write(_ extra: String) throws -> String {
            let text = """
                version: 1
                inputs: [\(samples)/corpus]
                index: {path: \(dir)/ref.idx, references: [\(samples)/references], \(extra)}
                output: \(dir)/out
                stages: [scan]
                """
            try TestSupport.write([UInt8](text.utf8), to: dir + "/pipeline.yaml")
            return dir + "/pipeline.yaml"
        }
        let run = try TestSupport.run(["run", try write("max_document_frequency: 7, sort_memory_mb: 1")])
        XCTAssertEqual(run.status, 0, run.error)
        let info = try TestSupport.run(["index", "info", dir + "/ref.idx"])
        XCTAssertTrue(info.output.contains("in more than 7 groups"), info.output)

        try FileManager.default.removeItem(atPath: dir + "/ref.idx")
        let bad = try TestSupport.run(["run", try write("sort_memory_mb: 0")])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.error.contains("index.sort_memory_mb") && bad.error.contains("at least 1"), bad.error)

        // The first 16 bytes of a version-1 index, as an older echoscan wrote it.
        try TestSupport.write(Array("ECHOSIDX".utf8) + [1, 0, 0, 0, 9, 0, 0, 0], to: dir + "/ref.idx")
        let old = try TestSupport.run(["index", "info", dir + "/ref.idx"])
        XCTAssertEqual(old.status, 1, "\(old)")
        let rebuilt = try TestSupport.run(["run", try write("max_document_frequency: 7")])
        XCTAssertEqual(rebuilt.status, 0, rebuilt.error)
        XCTAssertTrue(rebuilt.error.contains("has format version 1") && rebuilt.error.contains("rebuilding it"), rebuilt.error)
        XCTAssertTrue(try TestSupport.run(["index", "info", dir + "/ref.idx"]).output.contains("in more than 7 groups"))
    }

    /// The HTML report rendered by a real browser: headless Chromium takes a screenshot, and the
    /// bars of the charts are found among its pixels.
    func testHTMLReportDrawsItsCharts() throws {
        let browser = try TestSupport.chromium()
        let dir = try TestSupport.temporaryDirectory()
        let run = try TestSupport.run(["run", try pipeline(in: dir, stages: "scan, report", maxFlagged: 1000)])
        XCTAssertEqual(run.status, 0, run.error)
        let html = try String(contentsOfFile: dir + "/out/report.html", encoding: .utf8)
        // Self-contained: the only URL is the SVG namespace; no script, no linked file.
        let urls = html.components(separatedBy: "http").dropFirst().map { "http" + $0.prefix { !"\"' >".contains($0) } }
        XCTAssertEqual(Set(urls), ["http://www.w3.org/2000/svg"], "a URL other than the SVG namespace")
        XCTAssertFalse(html.contains("<script") || html.contains("<link") || html.contains("src="), "a script or a linked file")
        XCTAssertTrue(html.contains("<svg id=\"vendors\""), "vendor chart")

        let screenshot = dir + "/report.png"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: browser)
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1000,1400",
                             "--screenshot=\(screenshot)", "file://\(dir)/out/report.html"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let image = try XCTUnwrap(PNGImage(path: screenshot), "chromium wrote a PNG")
        XCTAssertEqual(image.width, 1000)
        XCTAssertGreaterThan(image.count(red: 0xc0, green: 0x39, blue: 0x2b), 2000, "the per-shard bars are drawn")
        XCTAssertGreaterThan(image.count(red: 0x3b, green: 0x6e, blue: 0xa5), 2000, "the vendor and model bars are drawn")
    }

    func testLedgerRecordsScansAndANewPipelineRescans() throws {
        let dir = try TestSupport.temporaryDirectory()
        let path = try pipeline(in: dir, stages: "scan", maxFlagged: 1000)
        XCTAssertEqual(try TestSupport.run(["run", path]).status, 0)
        let again = try TestSupport.run(["run", path])
        XCTAssertTrue(again.error.contains("scan: 4 of 4 tasks already done, skipped"), again.error)
        XCTAssertEqual(try TestSupport.run(["ledger", "--json", dir + "/out"]).output.split(separator: "\n").count, 4)

        // A changed pipeline (another option of the output) scans everything again, and so does --rescan.
        let changed = try String(contentsOfFile: path, encoding: .utf8) + "\noutputs:\n  max_matches: 3\n"
        try TestSupport.write([UInt8](changed), to: path)
        XCTAssertFalse(try TestSupport.run(["run", path]).error.contains("skipped"))
        let rescan = try TestSupport.run(["scan", "--rescan", "--index", dir + "/index/reference.idx", "-o", dir + "/out",
                                          TestSupport.samples + "/corpus"], directory: TestSupport.repositoryRoot.path)
        XCTAssertFalse(rescan.error.contains("skipped"), rescan.error)
        let ledger = try TestSupport.run(["ledger", "--json", dir + "/out"])
        let rows = try ledger.output.split(separator: "\n").map {
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        XCTAssertEqual(rows.count, 12)
        XCTAssertEqual(Set(rows.map { $0["pipeline_sha256"] as? String }).count, 3, "defaults, first and changed pipeline")
        XCTAssertTrue(rows.allSatisfy { ($0["sha256"] as? String)?.count == 64 && $0["status"] as? String == "ok" })
    }

    func testUnwritableOutputDirectoryIsAClearErrorAndLeavesNothing() throws {
        // Everything the unprivileged run reads lives in a world-readable folder.
        let dir = try TestSupport.temporaryDirectory()
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir)
        let samples = TestSupport.samples
        XCTAssertEqual(try TestSupport.run(["index", "build", "-o", dir + "/ref.idx", samples + "/references"]).status, 0)
        try FileManager.default.copyItem(atPath: samples + "/corpus/shard-003.jsonl", toPath: dir + "/shard.jsonl")
        try FileManager.default.copyItem(atPath: TestSupport.repositoryRoot.path + "/pipelines/markers/markers-v1.yaml", toPath: dir + "/markers.yaml")
        try TestSupport.write([UInt8]("version: 1\ndetectors:\n  marker: {file: markers.yaml}\n"), to: dir + "/pipeline.yaml")
        for file in ["ref.idx", "shard.jsonl", "markers.yaml", "pipeline.yaml"] {
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: dir + "/" + file)
        }
        // As `nobody`, the root-owned folder cannot be written.
        let result = try TestSupport.runUnprivileged(["scan", "--index", dir + "/ref.idx", "--pipeline", dir + "/pipeline.yaml",
                                                      "-o", dir + "/out", dir + "/shard.jsonl"], directory: dir)
        XCTAssertEqual(result.status, 1, result.error)
        XCTAssertTrue(result.error.contains("cannot create the output directory") || result.error.contains("not writable"), result.error)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/out"))
    }

    /// A full disk: a 48 KiB tmpfs fills up during the scan. The scan fails with a clear error,
    /// no manifest appears, the ledger holds no half-written row, and no marker claims the
    /// unfinished shard, so a rerun on a roomier disk redoes it.
    func testFullDiskIsAClearErrorAndLeavesTheLedgerConsistent() throws {
        try TestSupport.requireRoot("mounting a small tmpfs")
        let dir = try TestSupport.temporaryDirectory()
        let samples = TestSupport.samples
        XCTAssertEqual(try TestSupport.run(["index", "build", "-o", dir + "/ref.idx", samples + "/references"]).status, 0)
        let small = dir + "/small"
        try FileManager.default.createDirectory(atPath: small, withIntermediateDirectories: true)
        let mount = try TestSupport.run([], prefix: ["/bin/mount", "-t", "tmpfs", "-o", "size=48k", "tmpfs", small])
        XCTAssertEqual(mount.status, 0, mount.error)
        defer { _ = try? TestSupport.run([], prefix: ["/bin/umount", small]) }

        let result = try TestSupport.run(["scan", "--index", dir + "/ref.idx", "-o", small + "/out", samples + "/corpus"],
                                         directory: TestSupport.repositoryRoot.path)
        XCTAssertEqual(result.status, 1, result.output)
        XCTAssertTrue(result.error.contains("full") || result.error.contains("No space left"), result.error)
        XCTAssertFalse(FileManager.default.fileExists(atPath: small + "/out/manifest.jsonl"))
        let done = try FileManager.default.contentsOfDirectory(atPath: small + "/out/parts").filter { $0.hasSuffix(".done") }
        let ledger = try TestSupport.run(["ledger", "--json", small + "/out"])
        XCTAssertEqual(ledger.status, 0, ledger.error)
        XCTAssertEqual(ledger.output.split(separator: "\n").count, done.count, "one ledger row per finished shard")

        // An index build on the full disk: the scratch file that failed is named, and neither the
        // index nor the scratch folder is left behind.
        let build = try TestSupport.run(["index", "build", "-o", small + "/ref.idx", samples + "/references"])
        XCTAssertEqual(build.status, 1, build.output)
        XCTAssertTrue(build.error.contains("scratch file") && build.error.contains("No space left"), build.error)
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: small).contains { $0.contains("ref.idx") || $0.hasPrefix(".echoscan") })

        // Listing writes nothing: a ledger whose creation the full disk cut short (an empty
        // file) lists as empty on a disk with no byte left.
        try FileManager.default.createDirectory(atPath: small + "/cut", withIntermediateDirectories: true)
        XCTAssertTrue(FileManager.default.createFile(atPath: small + "/cut/ledger.sqlite", contents: nil))
        let filler = small + "/filler"
        XCTAssertTrue(FileManager.default.createFile(atPath: filler, contents: nil))
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: filler))
        XCTAssertThrowsError(try handle.write(contentsOf: Data(count: 64 << 10)), "the 48 KiB disk should be full")
        try handle.close()
        let cut = try TestSupport.run(["ledger", "--json", small + "/cut"])
        XCTAssertEqual(cut.status, 0, cut.error)
        XCTAssertEqual(cut.output, "")
    }

    /// Dolma's mixer (the dolma wheel's Rust code behind `dolma mix`) reads the attribute files
    /// where the scan writes them, in their shards' compression, and drops exactly the flagged
    /// documents.
    func testDolmaMixDropsExactlyTheFlaggedDocuments() throws {
        let python = try TestSupport.python()
        let dir = try TestSupport.temporaryDirectory()
        let root = dir + "/dataset"
        try FileManager.default.createDirectory(atPath: root + "/documents", withIntermediateDirectories: true)
        let names = ["shard-000.jsonl.zst", "shard-001.jsonl.gz", "shard-003.jsonl"]
        for name in names { try FileManager.default.copyItem(atPath: TestSupport.samples + "/corpus/" + name, toPath: root + "/documents/" + name) }
        _ = try IndexBuilder().build(references: [TestSupport.samples + "/references"].flatMap {
            try FileManager.default.contentsOfDirectory(atPath: $0).sorted().map { TestSupport.samples + "/references/" + $0 }
        }, output: dir + "/ref.idx")
        let scan = try TestSupport.run(["scan", "--index", dir + "/ref.idx", "-o", root, root + "/documents"])
        XCTAssertEqual(scan.status, 0, scan.error)
        let mix = try TestSupport.run([TestSupport.repositoryRoot.path + "/scripts/dolma_mix.py", root, dir + "/mixed"], executable: python)
        XCTAssertEqual(mix.status, 0, mix.error)
        func ids(_ lines: [String]) throws -> [String] {
            try lines.map { try XCTUnwrap((try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["id"] as? String) }
        }
        let flagged = Set(try ids(try TestSupport.lines(root + "/manifest.jsonl")))
        XCTAssertGreaterThan(flagged.count, 20)
        for name in names {
            let all = try ids(try TestSupport.decompressedLines(root + "/documents/" + name))
            let kept = try ids(try TestSupport.decompressedLines(dir + "/mixed/documents/" + name))
            XCTAssertEqual(kept, all.filter { !flagged.contains($0) }, name)
        }
    }
}
