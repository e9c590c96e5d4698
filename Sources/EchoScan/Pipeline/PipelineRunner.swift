import Foundation

/// Runs a whole pipeline file (`echoscan run`, `echoscan audit`): builds the index when it is
/// missing, then the stages it names — dedup (into OUTPUT/dedup), scan, report — and always
/// writes metrics.prom.
public struct PipelineRunner {
    public let configuration: PipelineConfiguration
    public let output: String
    public var log: @Sendable (String) -> Void

    public struct Result {
        public var scan: ScanSummary?
        public var dedup: DedupSummary?
        public var seconds: Double
    }

    public struct Error: Swift.Error, CustomStringConvertible {
        public var description: String
    }

    public init(configuration: PipelineConfiguration, output: String? = nil, log: @escaping @Sendable (String) -> Void = { _ in }) throws {
        self.configuration = configuration
        guard let directory = output ?? configuration.output else {
            throw Error(description: "no output directory: set output: in \(configuration.source ?? "the pipeline") or pass --output")
        }
        self.output = directory
        self.log = log
    }

    public func run(progress: ((ContaminationScanner.Progress) -> Void)? = nil) throws -> Result {
        let started = Date()
        guard !configuration.inputs.isEmpty else { throw Error(description: "the pipeline names no inputs") }
        var result = Result(seconds: 0)
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        if configuration.stages.contains("dedup") || configuration.dedupBeforeScan {
            let deduplicator = Deduplicator(request: DedupRequest(inputs: configuration.inputs, outputDirectory: output + "/dedup",
                                                                  configuration: configuration))
            result.dedup = try deduplicator.run(executor: LocalExecutor(threads: configuration.effectiveThreads, log: log))
        }
        if configuration.stages.contains("scan") {
            let index = try prepareIndex()
            let scanner = ContaminationScanner(request: ScanRequest(inputs: configuration.inputs, indexPath: index,
                                                                    outputDirectory: output, configuration: configuration))
            var summary = try scanner.run(progress: progress, log: log)
            if let dedup = result.dedup {
                summary.deduplication = try Self.uniqueCounts(scan: summary, dedup: dedup, dedupDirectory: output + "/dedup", scanDirectory: output)
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
                try AtomicFile.write(Array(try encoder.encode(summary)) + [0x0A], to: output + "/summary.json")
            }
            if configuration.stages.contains("report") {
                try ScanReport(summary: summary, manifest: try ManifestDigest(path: output + "/manifest.jsonl"),
                               reader: configuration.reader).write(to: output)
            }
            result.scan = summary
            try RunMetrics.write(job: configuration.job, summary: summary, seconds: Date().timeIntervalSince(started), to: output)
        }
        result.seconds = Date().timeIntervalSince(started)
        return result
    }

    /// The index file, built first from `index.references` when it does not exist yet.
    func prepareIndex() throws -> String {
        guard let path = configuration.indexPath else { throw Error(description: "the pipeline names no index (index.path)") }
        if FileManager.default.fileExists(atPath: path) { return path }
        guard !configuration.indexReferences.isEmpty else {
            throw Error(description: "index \(path) does not exist and the pipeline names no index.references to build it from")
        }
        let references = ShardInputs.expand(configuration.indexReferences)
        let background = ShardInputs.expand(configuration.indexBackground)
        if let first = (references.errors + background.errors).first { throw first }
        log("building index \(path) from \(references.paths.count) reference files")
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        var options = IndexBuildOptions()
        options.threads = configuration.effectiveThreads
        _ = try IndexBuilder(options: options).build(references: references.paths, background: background.paths, output: path)
        return path
    }

    /// Documents that are not duplicates, and how many of them were flagged.
    static func uniqueCounts(scan: ScanSummary, dedup: DedupSummary, dedupDirectory: String, scanDirectory: String) throws -> ScanSummary.Deduplication {
        let layout = DedupLayout(directory: dedupDirectory, shards: dedup.shards.map(\.path))
        var removed = Set<String>()
        for shard in dedup.shards.indices {
            guard let data = FileManager.default.contents(atPath: layout.removePath(shard)) else { continue }
            for line in data.split(separator: 0x0A) {
                if let object = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any], let number = object["line"] as? Int {
                    removed.insert("\(dedup.shards[shard].path)\u{0}\(number)")
                }
            }
        }
        let flagged = try ManifestDigest(path: scanDirectory + "/manifest.jsonl").entries
        let flaggedUnique = flagged.filter { !removed.contains("\($0.shard)\u{0}\($0.line)") }.count
        return .init(uniqueDocuments: scan.totals.documents - removed.count, flaggedUnique: flaggedUnique, duplicates: removed.count)
    }
}

/// The release gate of `echoscan audit`.
public enum AuditGate {
    /// Why the audit fails; empty when it passes.
    public static func violations(_ summary: ScanSummary, configuration: PipelineConfiguration) -> [String] {
        var reasons: [String] = []
        let totals = summary.totals
        let rate = totals.documents > 0 ? Double(totals.flagged) / Double(totals.documents) : 0
        if let limit = configuration.auditMaximumFlagged, totals.flagged > limit {
            reasons.append("\(totals.flagged) flagged documents exceed the limit of \(limit)")
        }
        if let limit = configuration.auditMaximumRate, rate > limit {
            reasons.append(String(format: "flagged rate %.4f exceeds the limit of %.4f", rate, limit))
        }
        return reasons
    }
}
