import ArgumentParser
import EchoScan
import Foundation

/// Options shared by `run` and `audit`.
struct PipelineArguments: ParsableArguments {
    @Argument(help: "The pipeline file (see pipelines/nightly-scan.yaml).")
    var pipeline: String

    @Option(name: .shortAndLong, help: "Output directory (overrides the pipeline's output:).")
    var output: String?

    @Option(help: "Worker threads (overrides the pipeline's threads:).")
    var threads: Int?

    @Option(help: "Where the stages run: local (this machine) or slurm (job arrays, one per stage).")
    var executor: ExecutorKind = .local

    @Option(help: "With --executor slurm: at most this many array tasks per stage.")
    var tasks: Int?

    @Option(help: "With --executor slurm: the partition to submit to.")
    var partition: String?

    @Flag(help: "With --executor slurm: print the job ids and return without waiting.")
    var noWait = false

    enum ExecutorKind: String, ExpressibleByArgument {
        case local, slurm
    }

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func execute() throws -> (PipelineConfiguration, PipelineRunner.Result) {
        var configuration = try loadPipeline(pipeline)
        if let threads { configuration.threads = threads }
        let runner = try PipelineRunner(configuration: configuration, output: output, log: { log($0) })
        let progress = ProgressLine()
        var chosen: StageExecutor? = nil
        if executor == .slurm {
            let directory = FileManager.default.currentDirectoryPath
            func absolute(_ path: String) -> String { path.hasPrefix("/") ? path : directory + "/" + path }
            var slurm = SlurmExecutor(binary: URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path,
                                      pipeline: absolute(pipeline), output: absolute(runner.output),
                                      workingDirectory: directory, log: { log($0) })
            slurm.tasks = tasks
            slurm.partition = partition
            slurm.wait = !noWait
            chosen = slurm
        }
        var callback: ((ContaminationScanner.Progress) -> Void)? = nil
        if executor == .local { callback = { progress.update($0) } }
        let result = try runner.run(executor: chosen, progress: callback)
        progress.finish()
        if executor == .slurm && noWait {
            print("submitted; the results will be in \(runner.output)")
            return (configuration, result)
        }
        if let dedup = result.dedup { report(dedup) }
        if let scan = result.scan {
            printScan(scan, output: runner.output)
            if let unique = scan.deduplication {
                print("  unique documents \(unique.uniqueDocuments), flagged unique \(unique.flaggedUnique)")
            }
        }
        return (configuration, result)
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a pipeline file: build the index if missing, then its stages (dedup, scan, report); write metrics.prom.")

    @OptionGroup var arguments: PipelineArguments

    func run() throws {
        let (_, result) = try arguments.execute()
        if result.scan?.status == .partial || result.dedup?.status == .partial { throw Status.partial }
    }
}

struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Scan, report and gate a release: exit 1 when the flagged count or rate passes the pipeline's audit: limits.")

    @OptionGroup var arguments: PipelineArguments

    func run() throws {
        let (configuration, result) = try arguments.execute()
        guard let summary = result.scan else { throw CommandError("an audit needs the scan stage in the pipeline") }
        printAuditTable(summary)
        let violations = AuditGate.violations(summary, configuration: configuration)
        if violations.isEmpty {
            print("audit passed")
            if summary.status == .partial { throw Status.partial }
        } else {
            violations.forEach { print("audit FAILED: \($0)") }
            throw ExitCode.failure
        }
    }

    func printAuditTable(_ summary: ScanSummary) {
        let totals = summary.totals
        func row(_ name: String, _ value: String) { print(name.padding(toLength: 44, withPad: " ", startingAt: 0) + value) }
        print("")
        row("documents", "\(totals.documents)")
        row("flagged", "\(totals.flagged) (\(String(format: "%.2f", totals.documents > 0 ? 100 * Double(totals.flagged) / Double(totals.documents) : 0))%)")
        for (vendor, count) in totals.byVendor.sorted(by: { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }) {
            row("  vendor \(vendor)", "\(count)")
        }
        for (model, count) in totals.byModel.sorted(by: { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }).prefix(10) {
            row("  model \(model)", "\(count)")
        }
        let worst = summary.shards.sorted {
            Double($0.counts.flagged) / Double(max($0.counts.documents, 1)) > Double($1.counts.flagged) / Double(max($1.counts.documents, 1))
        }
        for shard in worst.prefix(5) {
            row("  shard \((shard.path as NSString).lastPathComponent)", "\(shard.counts.flagged)/\(shard.counts.documents)")
        }
    }
}

func printScan(_ summary: ScanSummary, output: String) {
    for shard in summary.shards {
        if let error = shard.error { log(error) }
        shard.lineErrors.forEach(log)
    }
    summary.inputErrors.forEach(log)
    let totals = summary.totals
    let rate = totals.documents > 0 ? 100 * Double(totals.flagged) / Double(totals.documents) : 0
    print("scanned \(summary.shards.count) shards, \(totals.documents) documents: \(totals.flagged) flagged (\(String(format: "%.2f", rate))%)")
    for (detector, count) in totals.byDetector.sorted(by: { $0.key < $1.key }) { print("  \(detector): \(count)") }
    for (vendor, count) in totals.byVendor.sorted(by: { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }) {
        print("  vendor \(vendor): \(count)")
    }
    print("manifest: \(output)/manifest.jsonl")
    print("summary:  \(output)/summary.json")
    if summary.status != .ok { log("partial: some shards or lines could not be read (exit 3)") }
}
