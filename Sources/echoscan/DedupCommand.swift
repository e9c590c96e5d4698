import ArgumentParser
import EchoScan
import Foundation

struct Dedup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Find near-duplicate clusters across all shards (MinHash LSH); write clusters.jsonl, remove/ and summary.json.")

    @Option(name: .shortAndLong, help: "Output directory (stage files, clusters.jsonl, remove/<shard>.jsonl, summary.json).")
    var output: String

    @Option(help: "Pipeline file; its dedup: section sets threshold, permutations, shingle size.")
    var pipeline: String?

    @Option(help: "Worker threads (default: the pipeline's, else one per core).")
    var threads: Int?

    @Argument(help: "Shard files, directories or globs.")
    var inputs: [String]

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        var configuration = try loadPipeline(pipeline)
        if let threads { configuration.threads = threads }
        let deduplicator = Deduplicator(request: DedupRequest(inputs: inputs, outputDirectory: output, configuration: configuration))
        let summary: DedupSummary
        do {
            summary = try deduplicator.run(executor: LocalExecutor(threads: configuration.effectiveThreads, log: { log($0) }))
        } catch let error as StageError {
            throw CommandError(error.description)
        }
        report(summary)
        if summary.status != "ok" { throw Status.partial }
    }
}

func log(_ line: String) {
    FileHandleStream.standardError.write("echoscan: \(line)\n")
}

func report(_ summary: DedupSummary) {
    for shard in summary.shards {
        if let error = shard.error { log(error) }
        shard.lineErrors.forEach(log)
    }
    summary.inputErrors.forEach(log)
    let totals = summary.totals
    print("deduplicated \(summary.shards.count) shards, \(totals.documents) documents: \(totals.duplicates) duplicates "
          + "(\(totals.exactDuplicates) exact) in \(summary.clusters) clusters; \(totals.unique) unique")
}
