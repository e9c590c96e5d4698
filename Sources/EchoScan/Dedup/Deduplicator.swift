import Foundation

/// What a dedup run reads and where it writes.
public struct DedupRequest: Sendable {
    public var inputs: [String]
    public var outputDirectory: String
    public var configuration: PipelineConfiguration

    public init(inputs: [String], outputDirectory: String, configuration: PipelineConfiguration) {
        self.inputs = inputs
        self.outputDirectory = outputDirectory
        self.configuration = configuration
    }
}

/// Corpus deduplication as four stages with files between them (the datatrove decomposition):
/// signatures (per shard) → buckets (per LSH band, plus exact duplicates) → clusters (one task)
/// → decisions (per shard). Any executor can run them; each finished task leaves a marker, so a
/// rerun redoes only unfinished work.
public struct Deduplicator: Sendable {
    public let request: DedupRequest
    public let shards: [String]
    public let inputErrors: [ShardError]
    let layout: DedupLayout

    public init(request: DedupRequest) {
        self.request = request
        (shards, inputErrors) = ShardInputs.expand(request.inputs)
        layout = DedupLayout(directory: request.outputDirectory, shards: shards)
    }

    var options: DedupOptions { request.configuration.dedup }

    /// Everything that decides the output: parameters, reader options, the shard list.
    var fingerprint: String {
        // The stage-file layout: a run left by a version that wrote other files is redone.
        var text = "echoscan-dedup \(EchoScanVersion.current) stage files 5\n"
        let encoder = DedupFiles.encoder()
        text += String(decoding: (try? encoder.encode(options)) ?? Data(), as: UTF8.self) + "\n"
        let reader = request.configuration.reader
        text += "\(reader.fieldsDescription) \(reader.maximumLineBytes) \(reader.strict)\n"
        text += shards.joined(separator: "\n")
        return SHA256.hash(data: Data(text.utf8)).hexString
    }

    public func stages() -> [Stage] {
        let layout = self.layout
        let options = self.options
        let reader = request.configuration.reader
        let fingerprint = self.fingerprint
        let buckets = BucketStage(layout: layout, options: options)
        let threads = request.configuration.effectiveThreads
        var clusters = Stage(name: .clusters, taskCount: 1, markerDirectory: layout.clusterFolder, fingerprint: fingerprint) { _ in
            try ClusterStage(layout: layout, bucketTasks: buckets.taskCount, options: options, threads: threads).run()
        }
        clusters.runsTasksConcurrently = false
        return [
            Stage(name: .signatures, taskCount: shards.count, markerDirectory: layout.signatures, fingerprint: fingerprint) {
                try SignatureStage(layout: layout, options: options, reader: reader).run(shard: $0)
            },
            Stage(name: .buckets, taskCount: buckets.taskCount, markerDirectory: layout.buckets, fingerprint: fingerprint) {
                try buckets.run(band: $0)
            },
            clusters,
            Stage(name: .decisions, taskCount: shards.count, markerDirectory: layout.decisions, fingerprint: fingerprint) {
                try DecisionStage(layout: layout).run(shard: $0)
            },
        ]
    }

    /// Assembles summary.json from the stages' per-shard files.
    public func writeSummary(started: Date, threads: Int?) throws -> DedupSummary {
        let decoder = JSONDecoder()
        var shardsSummary: [DedupSummary.Shard] = []
        var totals = DedupSummary.Counts()
        for shard in shards.indices {
            let info = try decoder.decode(DedupShardInfo.self, from: try Data(contentsOf: URL(fileURLWithPath: layout.shardInfoPath(shard))))
            let decided = try decoder.decode(DecisionStage.ShardCounts.self,
                                             from: try Data(contentsOf: URL(fileURLWithPath: layout.decisionInfoPath(shard))))
            let counts = DedupSummary.Counts(documents: info.documents, bytes: info.bytes, badLines: info.badLines,
                                             duplicates: decided.duplicates, exactDuplicates: decided.exactDuplicates,
                                             unique: info.documents - decided.duplicates)
            totals.add(counts)
            let status = RunStatus(failed: info.error != nil, badLines: info.badLines)
            shardsSummary.append(.init(path: info.path, format: info.format, size: info.size, sha256: info.sha256, status: status,
                                       counts: counts, error: info.error, lineErrors: info.lineErrors, seconds: nil))
        }
        // One line per cluster, counted as bytes: splitting the file as a String walked it by
        // grapheme (3% of a 60 MB dedup).
        let clusters = (try? Data(contentsOf: URL(fileURLWithPath: layout.clustersFile)))?.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) } ?? 0
        let configuration = request.configuration
        let summary = DedupSummary(
            parameters: options.parameters, bands: options.parameters.banding.bands, rows: options.parameters.banding.rows,
            pipeline: .init(path: configuration.source, sha256: configuration.sha256),
            startedAt: ContaminationScanner.timestamp(started), finishedAt: ContaminationScanner.timestamp(Date()),
            host: ProcessInfo.processInfo.hostName, threads: threads,
            status: inputErrors.isEmpty && shardsSummary.allSatisfy { $0.status == .ok } ? .ok : .partial,
            clusters: clusters, totals: totals, shards: shardsSummary, inputErrors: inputErrors.map(\.description))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        try AtomicFile.write(Array(try encoder.encode(summary)) + [0x0A], to: layout.summaryPath)
        return summary
    }
}

/// The contents of a dedup run's summary.json.
public struct DedupSummary: Codable, Sendable {
    /// What dedup counted: documents, bytes, bad lines, duplicates (exact among them), unique documents.
    public struct Counts: Codable, Sendable, Equatable {
        public var documents = 0
        public var bytes = 0
        public var badLines = 0
        public var duplicates = 0
        public var exactDuplicates = 0
        public var unique = 0

        enum CodingKeys: String, CodingKey {
            case documents, bytes, badLines = "bad_lines", duplicates, exactDuplicates = "exact_duplicates", unique
        }

        mutating func add(_ other: Counts) {
            documents += other.documents
            bytes += other.bytes
            badLines += other.badLines
            duplicates += other.duplicates
            exactDuplicates += other.exactDuplicates
            unique += other.unique
        }
    }

    public typealias Shard = ShardReport<Counts>

    public var echoscanVersion = EchoScanVersion.current
    public var parameters: FingerprintParameters
    public var bands: Int
    public var rows: Int
    public var pipeline: ScanSummary.PipelineProvenance
    public var startedAt: String
    public var finishedAt: String
    public var host: String
    public var threads: Int?
    public var status: RunStatus
    public var clusters: Int
    public var totals: Counts
    public var shards: [Shard]
    public var inputErrors: [String]

    enum CodingKeys: String, CodingKey {
        case echoscanVersion = "echoscan_version", parameters, bands, rows, pipeline, startedAt = "started_at"
        case finishedAt = "finished_at", host, threads, status, clusters, totals, shards, inputErrors = "input_errors"
    }
}
