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
        // The pipeline file's dedup parameters; its inputs and stages are the command's.
        var configuration = try pipeline.load()
        configuration.inputs = inputs
        configuration.stages = [.dedup]
        let result = try PipelineRunner(configuration: configuration, output: output, log: { log($0) }).run()
        guard let summary = result.dedup else { throw CommandError("\(output)/summary.json is missing after dedup") }
        report(summary)
        if summary.status != .ok { throw Status.partial }
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
