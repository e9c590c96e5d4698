import EchoScan
import Foundation
import XCTest
import EchoScanTestSupport

/// Interruptions of real `echoscan scan` processes: kill -9 in the middle, a second run on the
/// same output directory while the first one works.
final class ResumeTests: XCTestCase {
    /// Eight shards of real sample documents, large enough that a scan takes a while.
    func makeCorpus(in dir: String) throws -> String {
        let corpus = dir + "/corpus"
        try FileManager.default.createDirectory(atPath: corpus, withIntermediateDirectories: true)
        let lines = try TestSupport.lines(TestSupport.samples + "/corpus/shard-003.jsonl")
        for shard in 0..<8 {
            var text = ""
            for copy in 0..<25 {
                for (number, line) in lines.enumerated() {
                    // Unique ids so that the manifest lines differ from copy to copy.
                    text += line.replacingOccurrences(of: "\"id\": \"doc-", with: "\"id\": \"s\(shard)c\(copy)n\(number)-") + "\n"
                }
            }
            try TestSupport.write(TestSupport.zstd([UInt8](text)), to: corpus + "/shard-\(shard).jsonl.zst")
        }
        return corpus
    }

    func index(in dir: String) throws -> String {
        let path = dir + "/ref.idx"
        let build = try TestSupport.run(["index", "build", "-o", path, TestSupport.samples + "/references"])
        XCTAssertEqual(build.status, 0, build.error)
        return path
    }

    func testKillNineThenRerunLosesAndRepeatsNothing() throws {
        let dir = try TestSupport.temporaryDirectory()
        let corpus = try makeCorpus(in: dir)
        let index = try index(in: dir)
        let root = TestSupport.repositoryRoot.path

        let reference = try TestSupport.run(["scan", "--index", index, "-o", dir + "/reference", "--threads", "1", corpus], directory: root)
        XCTAssertEqual(reference.status, 0, reference.error)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestSupport.executable)
        process.arguments = ["scan", "--index", index, "-o", dir + "/killed", "--threads", "1", corpus]
        process.currentDirectoryURL = URL(fileURLWithPath: root)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait until at least one shard is finished, then kill it without warning.
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: dir + "/killed/parts/000001.done") && process.isRunning && Date() < deadline {
            usleep(5_000)
        }
        XCTAssertTrue(process.isRunning, "the scan finished before it could be killed; make the corpus larger")

        // While it runs, a second scan of the same directory stops at once.
        let second = try TestSupport.run(["scan", "--index", index, "-o", dir + "/killed", corpus], directory: root)
        XCTAssertEqual(second.status, 1)
        XCTAssertTrue(second.error.contains("in use by another echoscan run (pid \(process.processIdentifier))"), second.error)

        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .uncaughtSignal)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/killed/manifest.jsonl"), "no manifest before the merge")

        let rerun = try TestSupport.run(["scan", "--index", index, "-o", dir + "/killed", "--threads", "1", corpus], directory: root)
        XCTAssertEqual(rerun.status, 0, rerun.error)
        XCTAssertTrue(rerun.error.contains("tasks already done, skipped"), rerun.error)
        let expected = try Data(contentsOf: URL(fileURLWithPath: dir + "/reference/manifest.jsonl"))
        let resumed = try Data(contentsOf: URL(fileURLWithPath: dir + "/killed/manifest.jsonl"))
        XCTAssertFalse(expected.isEmpty)
        XCTAssertEqual(resumed, expected, "no manifest line lost or written twice")
        let leftovers = try FileManager.default.subpathsOfDirectory(atPath: dir + "/killed").filter { $0.contains(".tmp-") }
        XCTAssertEqual(leftovers, [])
    }

    /// Markers are keyed on what changes the output: another thread count skips every shard, a
    /// --rescan scans them all again and leaves markers that the next ordinary run accepts.
    func testThreadsNeverRescanAndARescanLeavesMarkersTheNextRunAccepts() throws {
        let dir = try TestSupport.temporaryDirectory()
        let index = dir + "/ref.idx"
        _ = try IndexBuilder().build(references: [TestSupport.samples + "/references/fastchat__bard.jsonl"], output: index)
        func scan(_ extra: [String]) throws -> String {
            let run = try TestSupport.run(["scan", "--index", index, "-o", dir + "/out"] + extra + [TestSupport.samples + "/corpus"])
            XCTAssertEqual(run.status, 0, run.error)
            return try String(contentsOfFile: dir + "/out/manifest.jsonl", encoding: .utf8)
        }
        func markerTimes() throws -> [Date] {
            let parts = dir + "/out/parts"
            return try FileManager.default.contentsOfDirectory(atPath: parts).filter { $0.hasSuffix(".done") }.sorted().map {
                try FileManager.default.attributesOfItem(atPath: parts + "/" + $0)[.modificationDate] as? Date ?? .distantPast
            }
        }
        let first = try scan(["--threads", "1"])
        let written = try markerTimes()
        XCTAssertEqual(written.count, 4)
        Thread.sleep(forTimeInterval: 0.05)
        XCTAssertEqual(try scan(["--threads", "2"]), first)
        XCTAssertEqual(try markerTimes(), written, "another thread count rescanned")
        XCTAssertEqual(try scan(["--rescan"]), first)
        let rescanned = try markerTimes()
        XCTAssertTrue(zip(rescanned, written).allSatisfy { $0.0 > $0.1 }, "--rescan skipped a shard")
        XCTAssertEqual(try scan([]), first)
        XCTAssertEqual(try markerTimes(), rescanned, "the run after --rescan scanned again")
    }

    /// The binary copied out of the repository works from any directory: the marker list and the
    /// vendor table are compiled in.
    func testTheBinaryWorksOutsideTheRepository() throws {
        let dir = try TestSupport.temporaryDirectory()
        try FileManager.default.copyItem(atPath: TestSupport.executable, toPath: dir + "/echoscan")
        let build = try TestSupport.run(["index", "build", "-o", dir + "/ref.idx", TestSupport.samples + "/references"],
                                        directory: dir, executable: dir + "/echoscan")
        XCTAssertEqual(build.status, 0, build.error)
        try TestSupport.write([UInt8](#"{"id": "m", "text": "As an AI language model, I cannot browse the web."}"# + "\n"), to: dir + "/shard.jsonl")
        let scan = try TestSupport.run(["scan", "--index", dir + "/ref.idx", "-o", dir + "/out", TestSupport.samples + "/corpus", dir + "/shard.jsonl"],
                                       directory: dir, executable: dir + "/echoscan")
        XCTAssertEqual(scan.status, 0, scan.error)
        let manifest = try String(contentsOfFile: dir + "/out/manifest.jsonl", encoding: .utf8)
        XCTAssertTrue(manifest.contains(#""phrase":"as an AI language model""#), "the built-in markers ran")
    }
}
