import ArgumentParser
import EchoScan
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct Scan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Scan shards for known model outputs; write manifest.jsonl, summary.json, attribute files and metrics.prom.")

    @Option(help: "The reference index (built by `echoscan index build`).")
    var index: String

    @Option(name: .shortAndLong, help: "Output directory.")
    var output: String

    @OptionGroup var pipeline: PipelineOptions

    @Flag(help: "Scan shards again even when already scanned with the same index and pipeline.")
    var rescan = false

    @Flag(help: "Also write report.md and report.html (charts, top references, sample passages).")
    var report = false

    @Argument(help: "Shard files, directories or globs.")
    var inputs: [String]

    func run() throws {
        // The pipeline file's detectors and outputs; its inputs, index and stages are the command's.
        var configuration = try pipeline.load()
        configuration.inputs = inputs
        configuration.indexPath = index
        configuration.indexReferences = []
        configuration.stages = report ? [.scan, .report] : [.scan]
        let progress = ProgressLine()
        // Errors (a damaged index, a busy or unwritable output directory, a bad pipeline file)
        // reach ArgumentParser, which prints their description and exits with status 1.
        var runner = try PipelineRunner(configuration: configuration, output: output, log: { log($0) })
        runner.rescan = rescan
        let result = try runner.run(progress: progress.update)
        progress.finish()
        guard let summary = result.scan else { throw CommandError("\(output)/summary.json is missing after the scan") }
        printScan(summary, output: output)
        if summary.status != .ok { throw Status.partial }
    }
}

func loadPipeline(_ path: String?) throws -> PipelineConfiguration {
    guard let path else { return PipelineConfiguration() }
    do {
        return try PipelineConfiguration.load(path: path)
    } catch let error as PipelineConfiguration.Error {
        throw CommandError(error.description)
    }
}

/// A live status line on a terminal; nothing when standard error is not a terminal.
final class ProgressLine: @unchecked Sendable {
    private let enabled = isatty(2) == 1
    private let started = Date()
    private var last = Date.distantPast
    private var shards: [Int: ContaminationScanner.Progress] = [:]
    private let lock = NSLock()

    /// Shards done, documents, MB/s of text and an ETA from the share of shards done; shard
    /// tasks may report from several threads.
    func update(_ progress: ContaminationScanner.Progress) {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        shards[progress.shard] = progress
        guard Date().timeIntervalSince(last) > 0.2 || progress.finished else { return }
        last = Date()
        let seconds = max(Date().timeIntervalSince(started), 0.001)
        let done = shards.values.filter(\.finished).count
        let documents = shards.values.map(\.documents).reduce(0, +)
        let rate = Double(shards.values.map(\.bytes).reduce(0, +)) / 1_000_000 / seconds
        let eta = done > 0 ? String(format: "%.0f s", seconds / Double(done) * Double(progress.shardCount - done)) : "?"
        FileHandleStream.standardError.write("\r\u{1B}[K\(done)/\(progress.shardCount) shards, \(documents) documents, "
                                             + "\(String(format: "%.1f", rate)) MB/s, ETA \(eta)")
    }

    func finish() {
        if enabled { FileHandleStream.standardError.write("\r\u{1B}[K") }
    }
}
