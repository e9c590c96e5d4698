import ArgumentParser
import EchoScan
import Foundation

struct Dedup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Find near-duplicate clusters across all shards (MinHash LSH); write clusters.jsonl, remove/ and summary.json.")

    @Option(name: .shortAndLong, help: "Output directory (stage files, clusters.jsonl, remove/<shard>.jsonl, summary.json).")
    var output: String

    /// The pipeline's dedup: section sets threshold, permutations, shingle size.
    @OptionGroup var pipeline: PipelineOptions

    @Argument(help: "Shard files, directories or globs.")
    var inputs: [String]

    func run() throws {
        let configuration = try pipeline.load()
        let deduplicator = Deduplicator(request: DedupRequest(inputs: inputs, outputDirectory: output, configuration: configuration))
        let summary = try deduplicator.run(executor: LocalExecutor(threads: configuration.effectiveThreads, log: { log($0) }))
        report(summary)
        if summary.status != "ok" { throw Status.partial }
    }
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
