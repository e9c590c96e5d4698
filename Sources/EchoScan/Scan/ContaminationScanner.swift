import Foundation

/// What a scan reads and where it writes.
public struct ScanRequest: Sendable {
    public var inputs: [String]
    public var indexPath: String
    public var outputDirectory: String
    public var configuration: PipelineConfiguration

    public init(inputs: [String], indexPath: String, outputDirectory: String, configuration: PipelineConfiguration) {
        self.inputs = inputs
        self.indexPath = indexPath
        self.outputDirectory = outputDirectory
        self.configuration = configuration
    }
}

/// The contamination scan: read → fingerprint → match → write.
///
/// A reader thread streams the shards, in order, into a queue of at most a few batches; the calling
/// thread takes each batch, matches its documents on `threads` workers, and writes their lines in
/// document order. Memory is therefore the index plus a constant, and the output is the same for
/// every thread count. Each shard's manifest and attribute file are written to temporary names
/// and renamed when the shard is done; manifest.jsonl and summary.json are assembled last, also
/// atomically.
public struct ContaminationScanner {
    public let request: ScanRequest

    public init(request: ScanRequest) {
        self.request = request
    }

    public struct Progress: Sendable {
        public var shardsDone: Int
        public var shardCount: Int
        public var documents: Int
        public var bytes: Int
    }

    enum ReaderEvent: Sendable {
        case batch(DocumentBatch)
        case shardEnd(Int, ShardReadResult)
        case finished
    }

    public func run(progress: ((Progress) -> Void)? = nil) throws -> ScanSummary {
        let started = Date()
        let configuration = request.configuration
        let index = try ReferenceIndex(path: request.indexPath)
        let matcher = Matcher(index: index, options: configuration.match, markers: try configuration.loadMarkers())
        let records = ScanRecordWriter(index: index)
        let (paths, inputErrors) = ShardInputs.expand(request.inputs)
        let threads = configuration.effectiveThreads
        let layout = try OutputLayout(directory: request.outputDirectory, shards: paths)

        let reader = { var options = configuration.reader; options.computeSHA256 = true; return options }()
        let queue = BoundedQueue<ReaderEvent>(capacity: 3)
        let producer = Thread {
            for (number, path) in paths.enumerated() {
                let result = ShardReader(path: path, shardIndex: number, options: reader).read { queue.push(.batch($0)) }
                queue.push(.shardEnd(number, result))
            }
            queue.push(.finished)
        }
        producer.stackSize = 1 << 22
        producer.start()

        var shards: [ScanSummary.Shard] = []
        var totals = ScanSummary.Counts()
        var counts = ScanSummary.Counts()
        var part: ShardOutput? = nil
        var writeFailure: Error? = nil
        loop: while true {
            switch queue.pop() {
            case .batch(let batch):
                if part == nil {
                    do { part = try ShardOutput(layout: layout, shard: batch.shardIndex, attributes: configuration.writeAttributes) } catch { writeFailure = writeFailure ?? error }
                }
                let shardPath = paths[batch.shardIndex]
                let lines = Parallel.map(count: batch.documents.count, threads: threads, makeState: { Matcher.Scratch() }) { scratch, position in
                    let document = batch.documents[position]
                    let verdict = batch.withText(of: document) { matcher.match($0, scratch: &scratch) }
                    let manifest = verdict.isFlagged ? records.manifestLine(shard: shardPath, document: document, verdict: verdict) : nil
                    return (manifest, records.attributeLine(document: document, verdict: verdict), verdict.summaryKeys(index: index))
                }
                for (manifest, attribute, keys) in lines {
                    counts.documents += 1
                    if let manifest {
                        part?.manifest.write(manifest)
                        part?.manifest.write(CollectionOfOne(0x0A))
                        counts.flagged += 1
                        for detector in keys.detectors { counts.byDetector[detector, default: 0] += 1 }
                        if let model = keys.model { counts.byModel[model, default: 0] += 1 }
                        if let vendor = keys.vendor { counts.byVendor[vendor, default: 0] += 1 }
                    }
                    for vendor in keys.markerVendors { counts.markersByVendor[vendor, default: 0] += 1 }
                    part?.attributes?.write(attribute)
                    part?.attributes?.write(CollectionOfOne(0x0A))
                }
                progress?(Progress(shardsDone: shards.count, shardCount: paths.count, documents: totals.documents + counts.documents,
                                   bytes: totals.bytes + counts.bytes))
            case .shardEnd(_, let result):
                counts.bytes = result.uncompressedBytes
                counts.badLines = result.badLines
                do { try part?.commit() } catch { writeFailure = writeFailure ?? error }
                part = nil
                let status = result.fatalError != nil ? "failed" : (result.badLines > 0 ? "partial" : "ok")
                shards.append(ScanSummary.Shard(
                    path: result.path, format: result.format?.rawValue, size: result.compressedBytes, sha256: result.sha256,
                    status: status, counts: counts, error: result.fatalError?.description,
                    lineErrors: result.errors.filter { !$0.isFatalToShard }.map(\.description)))
                totals.add(counts)
                counts = ScanSummary.Counts()
                progress?(Progress(shardsDone: shards.count, shardCount: paths.count, documents: totals.documents, bytes: totals.bytes))
            case .finished:
                break loop
            }
        }
        if let writeFailure { throw writeFailure }

        try layout.mergeManifests(shardCount: paths.count)
        let partial = !inputErrors.isEmpty || shards.contains { $0.status != "ok" }
        let summary = ScanSummary(
            index: .init(path: request.indexPath, sha256: index.computeSHA256(), parameters: index.parameters,
                         bands: index.metadata.bands, rows: index.metadata.rows, references: index.referenceCount, groups: index.groupCount),
            pipeline: .init(path: configuration.source, sha256: configuration.sha256),
            startedAt: Self.timestamp(started), finishedAt: Self.timestamp(Date()),
            host: ProcessInfo.processInfo.hostName, threads: threads, status: partial ? "partial" : "ok",
            totals: totals, shards: shards, inputErrors: inputErrors.map(\.description))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        try AtomicFile.write(Array(try encoder.encode(summary)) + [0x0A], to: layout.summaryPath)
        return summary
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}

extension DocumentVerdict {
    /// What a flagged document adds to the summary's counts: its detectors, and the model and
    /// vendor of its best match.
    struct SummaryKeys: Sendable {
        var detectors: [String]
        var model: String?
        var vendor: String?
        var markerVendors: [String]
    }

    func summaryKeys(index: ReferenceIndex) -> SummaryKeys {
        let best = matches.first.map { index.reference(index.representative(ofGroup: $0.group)) }
        var vendors: [String] = []
        for marker in markers where !vendors.contains(marker.vendor) { vendors.append(marker.vendor) }
        return SummaryKeys(detectors: detectors, model: best?.model, vendor: best?.vendor, markerVendors: vendors)
    }
}
