import Foundation

/// The one orchestrator: every command that deduplicates or scans (`scan`, `dedup`, `run`,
/// `audit`, `task`) describes its work as a `PipelineConfiguration` (a pipeline file, or flags
/// over the built-in defaults) and runs it here. The runner builds the index when it is missing,
/// then the stages the pipeline names as one list of `Stage`s — dedup (signatures, buckets,
/// clusters, decisions), scan (per shard), merge, and finish (dedup's summary, unique counts,
/// report, metrics.prom) — on any `StageExecutor`.
public struct PipelineRunner: Sendable {
    public let configuration: PipelineConfiguration
    public let output: String
    /// Scan shards already scanned with the same index and pipeline again (`scan --rescan`);
    /// their markers are written as usual, so that the next ordinary run skips them.
    public var rescan = false
    public let log: @Sendable (String) -> Void

    /// The summaries a run left: the scan's and dedup's, when the pipeline has those stages.
    public struct Result {
        public var scan: ScanSummary?
        public var dedup: DedupSummary?
        public var seconds: Double
    }

    /// A pipeline that cannot run: no output directory, no inputs, no index.
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
        guard !configuration.inputs.isEmpty else { throw Error(description: "the pipeline names no inputs") }
    }

    var wantsDedup: Bool { configuration.stages.contains(.dedup) }
    var wantsScan: Bool { configuration.stages.contains(.scan) }
    /// Dedup's files: OUTPUT/dedup beside a scan's, OUTPUT itself when the pipeline only deduplicates.
    var dedupDirectory: String { wantsScan ? output + "/dedup" : output }

    var deduplicator: Deduplicator {
        Deduplicator(request: DedupRequest(inputs: configuration.inputs, outputDirectory: dedupDirectory, configuration: configuration))
    }

    var scanner: ContaminationScanner {
        var request = ScanRequest(inputs: configuration.inputs, indexPath: configuration.indexPath ?? "",
                                  outputDirectory: output, configuration: configuration)
        request.rescan = rescan
        return ContaminationScanner(request: request)
    }

    static let dedupStages: Set<Stage.Name> = [.signatures, .buckets, .clusters, .decisions]

    /// The stages of the pipeline, in order; only the one named `only` when it is given (a Slurm
    /// task, which then opens nothing another stage needs: the dedup stages never open the index).
    public func stages(only: Stage.Name? = nil, progress: ((ContaminationScanner.Progress) -> Void)? = nil) throws -> [Stage] {
        let scans = wantsScan && !(only.map(Self.dedupStages.contains) ?? false)
        return try stages(only: only, progress: progress, scanner: scans ? scanner : nil)
    }

    /// The stages, with the scan's `scanner` (nil when none is wanted). The scanner and the
    /// deduplicator each walk the inputs, so each is made once.
    func stages(only: Stage.Name?, progress: ((ContaminationScanner.Progress) -> Void)?, scanner: ContaminationScanner?) throws -> [Stage] {
        let deduplicator = wantsDedup ? self.deduplicator : nil
        var stages: [Stage] = []
        if let deduplicator { stages += deduplicator.stages().filter { only == nil || $0.name == only } }
        if let only, Self.dedupStages.contains(only) { return stages }
        var finishKey = deduplicator?.fingerprint ?? ""
        if let scanner {
            let context = try scanner.makeContext()
            try scanner.layout.prepare()
            stages += scanner.stages(context: context, progress: progress).filter { only == nil || $0.name == only }
            finishKey = context.fingerprint
        }
        let runner = self
        let started = Date()
        let finish = Stage(name: .finish, taskCount: 1, markerDirectory: output + "/finished", fingerprint: finishKey) { _ in
            try runner.finish(started: started, deduplicator: deduplicator)
        }
        if only == nil || only == .finish { stages.append(finish) }
        return stages
    }

    /// Builds the index if needed, runs every stage with `executor` (the merge and finish stages
    /// every time: new shards change them), and reads the results back.
    public func run(executor: StageExecutor? = nil, progress: ((ContaminationScanner.Progress) -> Void)? = nil) throws -> Result {
        let started = Date()
        try OutputLayout.createDirectory(output)
        let lock = try DirectoryLock(directory: output)
        defer { withExtendedLifetime(lock) {} }
        let scanner = wantsScan ? self.scanner : nil
        if let scanner {
            _ = try prepareIndex()
            for file in scanner.skippedFiles { log("skipped \(file): not a shard name (.jsonl, .jsonl.zst, .jsonl.lz4, .jsonl.gz, .parquet, ...)") }
            scanner.layout.removeStaleTemporaryFiles()
        }
        let stages = try self.stages(only: nil, progress: progress, scanner: scanner)
        for stage in stages where stage.name == .merge || stage.name == .finish {
            try? FileManager.default.removeItem(atPath: stage.markerPath(0))
        }
        let executor = executor ?? LocalExecutor(threads: configuration.effectiveThreads, log: log)
        try executor.run(stages)
        return try results(seconds: Date().timeIntervalSince(started))
    }

    /// The summaries the stages left on disk.
    public func results(seconds: Double) throws -> Result {
        let decoder = JSONDecoder()
        var result = Result(seconds: seconds)
        if wantsDedup, let data = FileManager.default.contents(atPath: dedupDirectory + "/summary.json") {
            result.dedup = try decoder.decode(DedupSummary.self, from: data)
        }
        if wantsScan, let data = FileManager.default.contents(atPath: output + "/summary.json") {
            result.scan = try decoder.decode(ScanSummary.self, from: data)
        }
        return result
    }

    /// After the merge: dedup's summary and unique counts, the report, metrics.prom.
    func finish(started: Date, deduplicator: Deduplicator?) throws {
        let dedup = try deduplicator?.writeSummary(started: started, threads: configuration.effectiveThreads)
        guard wantsScan else { return }
        let decoder = JSONDecoder()
        guard let data = FileManager.default.contents(atPath: output + "/summary.json") else {
            throw Error(description: "\(output)/summary.json is missing: the merge did not run")
        }
        var summary = try decoder.decode(ScanSummary.self, from: data)
        if let dedup {
            summary.deduplication = try Self.uniqueCounts(scan: summary, dedup: dedup, dedupDirectory: dedupDirectory, scanDirectory: output)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            try AtomicFile.write(Array(try encoder.encode(summary)) + [0x0A], to: output + "/summary.json")
        }
        if configuration.stages.contains(.report) {
            try ScanReport(summary: summary, manifest: try ManifestDigest(path: output + "/manifest.jsonl"),
                           reader: configuration.reader).write(to: output)
        }
        let seconds = summary.shards.compactMap(\.seconds).reduce(0, +)
        try RunMetrics.write(job: configuration.job, summary: summary, seconds: seconds, to: output)
    }

    /// The index file, built first from `index.references` when it does not exist yet, or when it
    /// is an index of another format version (a nightly job that outlived an upgrade); then the
    /// references of `index.add` added to it.
    func prepareIndex() throws -> String {
        let path = try buildIndex()
        try addReferences(to: path)
        return path
    }

    /// Adds the files of `index.add` that no segment of the index was built from yet as one new
    /// segment: a nightly job lists the week's reference files, each added once.
    func addReferences(to path: String) throws {
        guard !configuration.indexAdditions.isEmpty else { return }
        let additions = ShardInputs.expand(configuration.indexAdditions)
        let background = ShardInputs.expand(configuration.indexBackground)
        if let first = (additions.errors + background.errors).first { throw first }
        let index = try SegmentedIndex(path: path)
        let indexed = Set(index.segments.flatMap(\.metadata.sources).map(\.path))
        let new = additions.paths.filter { !indexed.contains($0) }
        guard !new.isEmpty else { return }
        log("adding \(new.count) reference files to index \(path) as a segment")
        var options = configuration.indexBuild
        options.threads = configuration.effectiveThreads
        _ = try IndexBuilder(options: options).addSegment(references: new, background: background.paths, to: index)
    }

    /// The index file, built first when it is missing or of another format version.
    func buildIndex() throws -> String {
        guard let path = configuration.indexPath else { throw Error(description: "the pipeline names no index (index.path)") }
        if FileManager.default.fileExists(atPath: path) {
            guard !configuration.indexReferences.isEmpty, let version = IndexFormat.version(ofFileAt: path),
                  version != IndexFormat.version else { return path }
            log("index \(path) has format version \(version), this echoscan writes \(IndexFormat.version): rebuilding it")
        } else if configuration.indexReferences.isEmpty {
            throw Error(description: "index \(path) does not exist and the pipeline names no index.references to build it from")
        }
        let references = ShardInputs.expand(configuration.indexReferences)
        let background = ShardInputs.expand(configuration.indexBackground)
        if let first = (references.errors + background.errors).first { throw first }
        log("building index \(path) from \(references.paths.count) reference files")
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        var options = configuration.indexBuild
        options.threads = configuration.effectiveThreads
        // The segments of an index it replaces are gone with it; `index.add` adds their files again.
        _ = try IndexBuilder(options: options).build(references: references.paths, background: background.paths, output: path)
        return path
    }

    /// Documents that are not duplicates, and how many of them were flagged.
    static func uniqueCounts(scan: ScanSummary, dedup: DedupSummary, dedupDirectory: String, scanDirectory: String) throws -> ScanSummary.Deduplication {
        let layout = DedupLayout(directory: dedupDirectory, shards: dedup.shards.map(\.path))
        // The line number of each removed duplicate (`DecisionStage` writes the lines).
        struct Removed: Decodable { var line: Int }
        let decoder = JSONDecoder()
        var removed = Set<String>()
        for shard in dedup.shards.indices {
            let path = layout.removePath(shard)
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            for (number, line) in data.split(separator: 0x0A).enumerated() {
                guard let record = try? decoder.decode(Removed.self, from: Data(line)) else {
                    throw AtomicFile.Error(path: path, reason: "line \(number + 1) names no removed document")
                }
                removed.insert("\(dedup.shards[shard].path)\u{0}\(record.line)")
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
