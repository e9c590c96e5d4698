import CLZ4
import CZlib
import CZstd
import EchoScan
import Foundation
import XCTest

/// Paths, temporary folders, real compressors, the pipeline runner and the built CLI, for the
/// unit and integration tests.
package enum TestSupport {
    package static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    package static var samples: String { repositoryRoot.appendingPathComponent("samples").path }
    /// References of two vendors for the style model: GPT-4 and the GPT-3 fine-tune for openai,
    /// Bard for google.
    package static var styleReferences: [String] {
        ["arena-hard__gpt-4-0314.jsonl", "fastchat__bard.jsonl", "gsm8k__175b_finetuning.jsonl"].map { samples + "/references/" + $0 }
    }
    /// Human text for the style model: GSM8K solutions.
    package static var styleBackground: String { samples + "/background/human.jsonl" }

    package static func temporaryDirectory(_ name: String = #function) throws -> String {
        let safe = name.filter { $0.isLetter || $0.isNumber }
        let path = NSTemporaryDirectory() + "echoscan-tests-\(safe)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Writes a pipeline file over the bundled samples (corpus, references, background; markers
    /// from the repository), building its index under `dir`, and returns its path. `extra` holds
    /// further top-level YAML lines.
    package static func samplePipeline(in dir: String, job: String, stages: String, extra: [String] = [],
                               name: String = "pipeline.yaml") throws -> String {
        let lines = [
            "version: 1",
            "job: \(job)",
            "inputs: [\(samples)/corpus]",
            "index:",
            "  path: \(dir)/index/reference.idx",
            "  references: [\(samples)/references]",
            "  background: [\(samples)/background]",
            "stages: [\(stages)]",
            "detectors:",
            "  marker: {file: \(repositoryRoot.path)/pipelines/markers/markers-v1.yaml}",
        ] + extra
        let path = dir + "/" + name
        try write([UInt8]((lines.joined(separator: "\n") + "\n").utf8), to: path)
        return path
    }

    /// Scans `inputs` into `output` through the pipeline runner, as `echoscan scan` does.
    package static func scan(_ inputs: [String], index: String, output: String, configuration: PipelineConfiguration = PipelineConfiguration(),
                     report: Bool = false) throws -> ScanSummary {
        var configuration = configuration
        configuration.inputs = inputs
        configuration.indexPath = index
        configuration.stages = report ? [.scan, .report] : [.scan]
        return try XCTUnwrap(try PipelineRunner(configuration: configuration, output: output).run().scan)
    }

    /// Deduplicates `inputs` into `output` through the pipeline runner, as `echoscan dedup` does.
    package static func dedup(_ inputs: [String], output: String, configuration: PipelineConfiguration = PipelineConfiguration(),
                      log: @escaping @Sendable (String) -> Void = { _ in }) throws -> DedupSummary {
        var configuration = configuration
        configuration.inputs = inputs
        configuration.stages = [.dedup]
        return try XCTUnwrap(try PipelineRunner(configuration: configuration, output: output, log: log).run().dedup)
    }

    // Prerequisites. A test that lacks one is skipped and says what it needs and what provides it
    // (scripts/test.sh, run as root, provides them all); a broken one that was provided fails.

    /// Skips the test unless it runs as root.
    package static func requireRoot(_ reason: String) throws {
        guard getuid() == 0 else { throw XCTSkip("needs root: \(reason)") }
    }

    /// Headless Chromium's path.
    package static func chromium() throws -> String {
        guard let path = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("needs Chromium (scripts/setup.sh --test installs it)")
        }
        return path
    }

    /// Skips the test unless a Slurm cluster answers `sinfo` (not asked with ECHOSCAN_SKIP_SLURM=1).
    package static func requireSlurm() throws {
        if ProcessInfo.processInfo.environment["ECHOSCAN_SKIP_SLURM"] == "1" { throw XCTSkip("needs Slurm: ECHOSCAN_SKIP_SLURM=1") }
        let sinfo = (try? run(["sinfo", "-h"], executable: "/usr/bin/env"))?.status
        guard sinfo == 0 else { throw XCTSkip("needs a Slurm cluster: sinfo fails (scripts/slurm-single-node.sh start)") }
    }

    /// The Python with the real Parquet writers (pyarrow, DuckDB, polars): `ECHOSCAN_PYTHON`
    /// (scripts/test.sh sets it; a broken one fails the test), else the repository's .venv.
    package static func python() throws -> String {
        let configured = ProcessInfo.processInfo.environment["ECHOSCAN_PYTHON"]
        let candidate = configured ?? repositoryRoot.appendingPathComponent(".venv/bin/python").path
        let check = try run(["-c", "import pyarrow, duckdb, polars"], executable: candidate)
        if check.status == 0 { return candidate }
        if configured != nil {
            XCTFail("ECHOSCAN_PYTHON=\(candidate) cannot import pyarrow, duckdb and polars: \(check.error)")
        }
        throw XCTSkip("needs a Python with pyarrow, duckdb and polars (scripts/python-env.sh makes one)")
    }

    /// Writes `records` as JSONL and as Parquet with every writer and codec of
    /// scripts/write_parquet.py; returns the JSONL's path and the Parquet files'.
    package static func parquetFiles(of records: [[String: Any]], in dir: String, only: String = "pyarrow,duckdb,polars") throws -> (String, [String]) {
        let jsonl = dir + "/records.jsonl"
        var text = ""
        for record in records {
            text += String(decoding: try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys]), as: UTF8.self) + "\n"
        }
        try write([UInt8](text.utf8), to: jsonl)
        let script = repositoryRoot.appendingPathComponent("scripts/write_parquet.py").path
        let result = try run([script, jsonl, dir + "/parquet", "--only", only], executable: try python())
        guard result.status == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "write_parquet.py failed: \(result.error)"]) }
        return (jsonl, result.output.split(separator: "\n").map(String.init))
    }

    package static func write(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// The lines of a file compressed as its name says, through the zstd, gzip and lz4 commands.
    package static func decompressedLines(_ path: String) throws -> [String] {
        let tool = path.hasSuffix(".zst") ? "/usr/bin/zstd" : path.hasSuffix(".gz") ? "/usr/bin/gzip" : path.hasSuffix(".lz4") ? "/usr/bin/lz4" : nil
        guard let tool else { return try lines(path) }
        let result = try run(["-dc", path], executable: tool)
        XCTAssertEqual(result.status, 0, result.error)
        return result.output.split(separator: "\n").map(String.init)
    }

    package static func lines(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    // MARK: Real compressors (libzstd, liblz4, zlib)

    package static func zstd(_ input: [UInt8], level: Int32 = 3) -> [UInt8] {
        let bound = ZSTD_compressBound(input.count)
        var output = [UInt8](repeating: 0, count: bound)
        let written = output.withUnsafeMutableBytes { out in
            input.withUnsafeBytes { ZSTD_compress(out.baseAddress, bound, $0.baseAddress, $0.count, level) }
        }
        precondition(ZSTD_isError(written) == 0)
        return Array(output[0..<written])
    }

    /// A zstd skippable frame carrying `payload` (magic 0x184D2A5?, little-endian size, bytes).
    package static func zstdSkippableFrame(_ payload: [UInt8]) -> [UInt8] {
        var frame: [UInt8] = [0x50, 0x2A, 0x4D, 0x18]
        withUnsafeBytes(of: UInt32(payload.count).littleEndian) { frame += $0 }
        return frame + payload
    }

    package static func lz4Frame(_ input: [UInt8]) -> [UInt8] {
        let bound = LZ4F_compressFrameBound(input.count, nil)
        var output = [UInt8](repeating: 0, count: bound)
        let written = output.withUnsafeMutableBytes { out in
            input.withUnsafeBytes { LZ4F_compressFrame(out.baseAddress, bound, $0.baseAddress, $0.count, nil) }
        }
        precondition(LZ4F_isError(written) == 0)
        return Array(output[0..<written])
    }

    package static func gzip(_ input: [UInt8]) -> [UInt8] {
        var stream = z_stream()
        precondition(deflateInit2_(&stream, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK)
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, uLong(input.count)))
        var output = [UInt8](repeating: 0, count: bound)
        var input = input
        let produced: Int = input.withUnsafeMutableBufferPointer { source in
            output.withUnsafeMutableBufferPointer { destination in
                stream.next_in = source.baseAddress
                stream.avail_in = uInt(source.count)
                stream.next_out = destination.baseAddress
                stream.avail_out = uInt(destination.count)
                precondition(deflate(&stream, Z_FINISH) == Z_STREAM_END)
                return destination.count - Int(stream.avail_out)
            }
        }
        return Array(output[0..<produced])
    }

    // MARK: The command-line tool

    package static var executable: String {
        // Test bundles and products share the build folder.
        let bundle = Bundle.allBundles.first { $0.bundlePath.hasSuffix(".xctest") }?.bundleURL
            ?? URL(fileURLWithPath: CommandLine.arguments[0])
        return bundle.deletingLastPathComponent().appendingPathComponent("echoscan").path
    }

    package struct Run {
        package var status: Int32
        package var output: String
        package var error: String
    }

    /// Runs echoscan as `nobody` when the tests run as root (root reads and writes everything),
    /// from a copy of the binary in a world-readable folder, since the checkout may not be.
    package static func runUnprivileged(_ arguments: [String], directory: String) throws -> Run {
        guard getuid() == 0 else { return try run(arguments, directory: directory) }
        let folder = try temporaryDirectory("nobody")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder)
        try FileManager.default.copyItem(atPath: executable, toPath: folder + "/echoscan")
        return try run(arguments, prefix: ["/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"],
                       directory: directory, executable: folder + "/echoscan")
    }

    /// Runs echoscan (optionally through a prefix such as `setpriv … --`) and collects its output.
    package static func run(_ arguments: [String], prefix: [String] = [], directory: String? = nil, executable: String = executable) throws -> Run {
        let process = Process()
        if prefix.isEmpty {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: prefix[0])
            // An empty argument list runs the prefix alone (a plain command).
            process.arguments = Array(prefix.dropFirst()) + (arguments.isEmpty ? [] : [executable] + arguments)
        }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let (outData, errData) = ChildOutput.read(output: output, error: error)
        process.waitUntilExit()
        return Run(status: process.terminationStatus, output: String(decoding: outData, as: UTF8.self),
                   error: String(decoding: errData, as: UTF8.self))
    }
}

extension Array where Element == UInt8 {
    package init(_ string: String) { self = Array(string.utf8) }
}

/// Lines collected from concurrent callers.
package final class LockedLines: @unchecked Sendable {
    package init() {}
    private var storage: [String] = []
    private let lock = NSLock()
    package func append(_ line: String) { lock.lock(); storage.append(line); lock.unlock() }
    package var lines: [String] { lock.lock(); defer { lock.unlock() }; return storage }
}
