import EchoScan
import Foundation
import XCTest
import EchoScanTestSupport

/// The Slurm executor against a real one-node cluster (scripts/slurm-single-node.sh, started by
/// .ci/run). Set ECHOSCAN_SKIP_SLURM=1 to skip on a machine without Slurm.
final class SlurmTests: XCTestCase {
    override func setUpWithError() throws {
        try TestSupport.requireSlurm()
    }

    /// summary.json without the fields that name the time, the host or the thread count.
    func comparable(_ path: String) throws -> NSDictionary {
        var summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        for key in ["started_at", "finished_at", "host", "threads"] { summary[key] = nil }
        summary["shards"] = (summary["shards"] as? [[String: Any]])?.map { shard -> [String: Any] in
            var copy = shard
            copy["seconds"] = nil
            return copy
        }
        return summary as NSDictionary
    }

    func testSlurmRunIsByteIdenticalToTheLocalRunAndRerunsOnlyUnfinishedTasks() throws {
        let dir = try TestSupport.temporaryDirectory()
        let pipeline = try TestSupport.samplePipeline(in: dir, job: "slurm-test", stages: "dedup, scan, report")
        let local = try TestSupport.run(["run", pipeline, "-o", dir + "/local"])
        XCTAssertEqual(local.status, 0, local.error)
        let slurm = try TestSupport.run(["run", pipeline, "-o", dir + "/slurm", "--executor", "slurm", "--tasks", "2"])
        XCTAssertEqual(slurm.status, 0, slurm.error)
        XCTAssertTrue(slurm.error.contains("scan: submitted job array"), slurm.error)
        XCTAssertTrue(slurm.error.contains("finish: job"), slurm.error)

        for file in ["manifest.jsonl", "attributes/echoscan/shard-002.jsonl.lz4", "dedup/clusters.jsonl", "dedup/remove/shard-001.jsonl"] {
            let a = try Data(contentsOf: URL(fileURLWithPath: dir + "/local/" + file))
            let b = try Data(contentsOf: URL(fileURLWithPath: dir + "/slurm/" + file))
            XCTAssertEqual(a, b, file)
        }
        XCTAssertEqual(try comparable(dir + "/local/summary.json"), try comparable(dir + "/slurm/summary.json"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/slurm/report.html"))

        // Lose one shard's scan: the rerun submits that shard alone, and nothing of the dedup.
        try FileManager.default.removeItem(atPath: dir + "/slurm/parts/000002.done")
        let rerun = try TestSupport.run(["run", pipeline, "-o", dir + "/slurm", "--executor", "slurm"])
        XCTAssertEqual(rerun.status, 0, rerun.error)
        XCTAssertTrue(rerun.error.contains("signatures: all 4 tasks done, not submitted"), rerun.error)
        XCTAssertTrue(rerun.error.contains("scan: submitted job array") && rerun.error.contains("with 1 tasks (1 of 4 stage tasks)"), rerun.error)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/local/manifest.jsonl")),
                       try Data(contentsOf: URL(fileURLWithPath: dir + "/slurm/manifest.jsonl")))
    }

    /// An index with a segment added by the pipeline's `index.add` scans the same in Slurm array
    /// tasks as locally: every task opens the index and its segment as one.
    func testAnIndexWithASegmentScansTheSameOnSlurm() throws {
        let dir = try TestSupport.temporaryDirectory()
        let samples = TestSupport.samples
        let lines = [
            "version: 1",
            "job: slurm-segments",
            "inputs: [\(samples)/corpus]",
            "index:",
            "  path: \(dir)/index/reference.idx",
            "  references: [\(samples)/references/arena-hard__gpt-4-0314.jsonl, \(samples)/references/gsm8k__175b_finetuning.jsonl]",
            "  add: [\(samples)/references/fastchat__bard.jsonl]",
            "  background: [\(samples)/background]",
            "stages: [scan]",
        ]
        try TestSupport.write([UInt8](lines.joined(separator: "\n") + "\n"), to: dir + "/pipeline.yaml")
        let local = try TestSupport.run(["run", dir + "/pipeline.yaml", "-o", dir + "/local"])
        XCTAssertEqual(local.status, 0, local.error)
        let slurm = try TestSupport.run(["run", dir + "/pipeline.yaml", "-o", dir + "/slurm", "--executor", "slurm", "--tasks", "2"])
        XCTAssertEqual(slurm.status, 0, slurm.error)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/index/reference.idx.segment-1"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/index/reference.idx.segment-2"), "added once")
        let manifest = try Data(contentsOf: URL(fileURLWithPath: dir + "/local/manifest.jsonl"))
        XCTAssertTrue(String(decoding: manifest, as: UTF8.self).contains("fastchat-vicuna80/bard"), "the segment's references are found")
        XCTAssertEqual(manifest, try Data(contentsOf: URL(fileURLWithPath: dir + "/slurm/manifest.jsonl")))
    }

    func testAFailedTaskFailsItsStageWithItsLogAndCancelsTheRest() throws {
        let dir = try TestSupport.temporaryDirectory()
        let pipeline = try TestSupport.samplePipeline(in: dir, job: "slurm-test", stages: "dedup, scan, report")
        // The clusters stage cannot create its folder: a file stands where it should be.
        try FileManager.default.createDirectory(atPath: dir + "/out/dedup", withIntermediateDirectories: true)
        try TestSupport.write([UInt8]("not a folder"), to: dir + "/out/dedup/clusters")
        let started = Date()
        let result = try TestSupport.run(["run", pipeline, "-o", dir + "/out", "--executor", "slurm"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.error.contains("stage clusters"), result.error)
        XCTAssertTrue(result.error.contains("FAILED") && result.error.contains("/slurm/logs/clusters-"), result.error)
        XCTAssertLessThan(Date().timeIntervalSince(started), 120, "dependent stages are cancelled, not left pending")
        let queue = try TestSupport.run([], prefix: ["/usr/bin/env", "squeue", "-h", "-n", "echoscan-decisions"])
        XCTAssertEqual(queue.output.trimmingCharacters(in: .whitespacesAndNewlines), "", "nothing left in the queue")
    }

    /// sbatch and squeue run as children whose two pipes are read at once: one that writes more
    /// than a pipe holds (64 KiB) to standard error before its output does not block.
    func testACommandThatFillsItsErrorPipeDoesNotBlock() throws {
        let output = try SlurmExecutor.command("sh", ["-c", "head -c 300000 /dev/zero | tr '\\0' x >&2; echo done"])
        XCTAssertEqual(output, "done\n")
        XCTAssertThrowsError(try SlurmExecutor.command("sh", ["-c", "head -c 300000 /dev/zero | tr '\\0' y >&2; exit 3"])) { error in
            XCTAssertTrue("\(error)".contains("yyyy"), "the error names what the child wrote")
        }
    }

    /// A Parquet shard's row groups are scan tasks on Slurm as locally: one array task per row
    /// group, and the manifest and attributes of the local run, which are those of the same
    /// records as JSON lines.
    func testParquetRowGroupsAreSlurmArrayTasks() throws {
        let dir = try TestSupport.temporaryDirectory()
        let script = """
            import json, pyarrow as pa, pyarrow.parquet as pq
            rows = [json.loads(line) for line in open("\(TestSupport.samples)/corpus/shard-003.jsonl")]
            pq.write_table(pa.Table.from_pylist(rows), "\(dir)/shard.parquet", row_group_size=5, compression="zstd")
            print(len(rows))
            """
        let written = try TestSupport.run(["-c", script], executable: try TestSupport.python())
        XCTAssertEqual(written.status, 0, written.error)
        let rows = try XCTUnwrap(Int(written.output.trimmingCharacters(in: .whitespacesAndNewlines)))
        let pipeline = dir + "/pipeline.yaml"
        try TestSupport.write([UInt8]("""
            version: 1
            job: parquet-slurm
            inputs: [\(dir)/shard.parquet]
            index: {path: \(dir)/index/reference.idx, references: [\(TestSupport.samples)/references]}
            reader: {parquet_task_mb: 0}
            stages: [scan]

            """.utf8), to: pipeline)
        let local = try TestSupport.run(["run", pipeline, "-o", dir + "/local"])
        XCTAssertEqual(local.status, 0, local.error)
        let slurm = try TestSupport.run(["run", pipeline, "-o", dir + "/slurm", "--executor", "slurm", "--tasks", "2"])
        XCTAssertEqual(slurm.status, 0, slurm.error)
        let parts = try FileManager.default.contentsOfDirectory(atPath: dir + "/slurm/parts").filter { $0.hasSuffix(".manifest.jsonl") }
        XCTAssertEqual(parts.count, (rows + 4) / 5, "a scan task per row group")
        for file in ["manifest.jsonl", "attributes/echoscan/shard.jsonl"] {
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/local/" + file)),
                           try Data(contentsOf: URL(fileURLWithPath: dir + "/slurm/" + file)), file)
        }
        let jsonl = try TestSupport.run(["scan", "--index", dir + "/index/reference.idx", "-o", dir + "/jsonl", TestSupport.samples + "/corpus/shard-003.jsonl"])
        XCTAssertEqual(jsonl.status, 0, jsonl.error)
        func withoutLocation(_ path: String) throws -> [String] {
            try TestSupport.lines(path).map {
                $0.replacingOccurrences(of: #""shard":"[^"]*","line":([0-9]+),"offset":[0-9]+"#, with: "$1", options: .regularExpression)
            }
        }
        XCTAssertEqual(try withoutLocation(dir + "/slurm/manifest.jsonl"), try withoutLocation(dir + "/jsonl/manifest.jsonl"))
        XCTAssertFalse(try TestSupport.lines(dir + "/jsonl/manifest.jsonl").isEmpty)
    }
}
