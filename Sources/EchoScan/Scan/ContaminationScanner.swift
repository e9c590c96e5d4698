import Foundation

/// What a scan reads and where it writes.
public struct ScanRequest: Sendable {
    public var inputs: [String]
    public var indexPath: String
    public var outputDirectory: String
    public var configuration: PipelineConfiguration
    /// Scan shards already scanned with the same index and pipeline again.
    public var rescan = false

    public init(inputs: [String], indexPath: String, outputDirectory: String, configuration: PipelineConfiguration) {
        self.inputs = inputs
        self.indexPath = indexPath
        self.outputDirectory = outputDirectory
        self.configuration = configuration
    }
}

/// The contamination scan: read → fingerprint → match → write, as two stages.
///
/// **scan**, one task per unit (a shard, or a run of row groups of a large Parquet shard),
/// `threads` units at a time: a reader thread streams the unit
/// into a queue of at most a few batches; `threads` workers match its documents (`OrderedStream`,
/// at most `threads` matching at once over all units)
/// and the task's thread writes their lines in document order. Memory is the index plus a
/// constant per unit in flight, and the output is the same for every thread count and split. The
/// unit's manifest part, attribute part and counts are written under temporary names and renamed
/// when the unit is done, then its completion marker (keyed by the index's and the pipeline's
/// SHA-256): a rerun, after a kill or with new shards, skips finished units. **merge**, one task:
/// manifest.jsonl, each shard's attribute file and summary.json, atomically.
public struct ContaminationScanner: Sendable {
    public let request: ScanRequest
    public let shards: [String]
    /// The scan stage's tasks.
    public let units: [ScanUnit]
    public let inputErrors: [ShardError]
    /// Files in the input directories that are not shards by their names (a summary.json beside
    /// the shards): not read, named once each.
    public let skippedFiles: [String]
    let layout: OutputLayout

    public init(request: ScanRequest) {
        self.request = request
        let (named, errors, skipped) = ShardInputs.expandReportingSkips(request.inputs)
        shards = named.map(\.path)
        inputErrors = errors
        skippedFiles = skipped
        units = ScanUnit.plan(shards: shards, targetBytes: request.configuration.reader.parquetTaskBytes)
        layout = OutputLayout(directory: request.outputDirectory, shards: named)
    }

    /// How far one shard's scan has come (totals so far for that shard).
    public struct Progress: Sendable {
        public var shard: Int
        public var shardCount: Int
        public var documents: Int
        /// Uncompressed text bytes scanned so far in the shard.
        public var bytes: Int
        public var finished: Bool
    }

    /// The index, matcher and provenance a process needs to scan; opened once per process.
    public final class Context: @unchecked Sendable {
        let index: SegmentedIndex
        let matcher: Matcher
        let records: ScanRecordWriter
        let indexSHA256: String
        let fingerprint: String
        /// Shared by the shards this process scans at once.
        let workers: WorkerBudget

        init(request: ScanRequest) throws {
            index = try SegmentedIndex(path: request.indexPath)
            let markers = try request.configuration.loadMarkers()
            matcher = Matcher(index: index, options: request.configuration.match, markers: markers)
            records = ScanRecordWriter(index: index, style: matcher.style)
            indexSHA256 = index.sha256
            // Keyed on what changes the output (not the pipeline file's bytes: editing `threads`
            // must not rescan), from the file or the command line alike.
            let text = "echoscan-scan \(EchoScanVersion.current) index \(indexSHA256) \(request.configuration.scanKey(markers: markers))"
            fingerprint = SHA256.hash(data: Data(text.utf8)).hexString
            workers = WorkerBudget(threads: request.configuration.effectiveThreads)
        }
    }

    public func makeContext() throws -> Context { try Context(request: request) }

    public func stages(context: Context, progress: ((Progress) -> Void)? = nil) -> [Stage] {
        let scanner = self
        let reportProgress = UncheckedSendable(progress)
        let shards = self.shards
        let units = self.units
        // A unit's marker names the shard (path, size, modification time) and its row groups as
        // well as the index and pipeline: a changed file, or another unit at this position, is
        // scanned again.
        let shardFingerprint: @Sendable (Int) -> String = { task in
            context.fingerprint + " " + ShardIdentity(path: shards[units[task].shard]).description + units[task].description
        }
        // Shards are scanned `threads` at a time, each on its own worker threads: one shard's
        // start (its reader filling the first batch) and end (the last batch draining, the files
        // committed) leave its workers idle, and another shard fills those gaps. The workers of
        // all of them share one budget of `threads` (`Context.workers`): no more match at once.
        var scan = Stage(name: .scan, taskCount: units.count, markerDirectory: layout.directory + "/parts", fingerprint: shardFingerprint) { task in
            try scanner.scan(shard: task, context: context, progress: reportProgress.value)
        }
        // --rescan runs finished units again and leaves the usual markers, so that the next
        // ordinary run skips them.
        scan.rerunsDoneTasks = request.rescan
        return [
            scan,
            Stage(name: .merge, taskCount: 1, markerDirectory: layout.directory + "/merged", fingerprint: context.fingerprint) { _ in
                _ = try scanner.merge(context: context)
            },
        ]
    }

    enum ReaderEvent: Sendable {
        case batch(DocumentBatch)
        case end(ShardReadResult)
    }

    /// Scans one unit into its part files and counts.
    func scan(shard task: Int, context: Context, progress: ((Progress) -> Void)?) throws {
        let started = Date()
        let configuration = request.configuration
        let threads = configuration.effectiveThreads
        let unit = units[task]
        let number = unit.shard
        let path = shards[number]
        // The unit that starts the file hashes all of it, once.
        // A scan has no use for prompts (the index build's).
        let reader = { var options = configuration.reader; options.computeSHA256 = unit.isFirstOfShard; options.promptPaths = []; return options }()
        let queue = BoundedQueue<ReaderEvent>(capacity: 3)
        let producer = Thread {
            let result = ShardReader(path: path, shardIndex: number, options: reader, rowGroups: unit.rowGroups).read { queue.push(.batch($0)) }
            queue.push(.end(result))
        }
        producer.stackSize = 1 << 22
        producer.start()

        let output = try ShardOutput(layout: layout, unit: task, attributes: configuration.writeAttributes)
        let matcher = context.matcher
        let records = context.records
        let index = context.index
        var counts = ScanSummary.Counts()
        var styleTally = matcher.style.map(StyleTally.init(model:))
        var textBytes = 0
        let shardEnd = HandOff<ShardReadResult>()
        OrderedStream<DocumentBatch, ScanLine>(threads: threads, budget: context.workers).run(
            next: {
                switch queue.pop() {
                case .batch(let batch): return batch
                case .end(let result):
                    shardEnd.value = result
                    return nil
                }
            },
            count: { $0.documents.count },
            makeState: { Matcher.Scratch() },
            transform: { scratch, batch, position in
                let document = batch.documents[position]
                let verdict = batch.withText(of: document) { matcher.match($0, scratch: &scratch) }
                let manifest = verdict.isFlagged ? records.manifestLine(shard: path, document: document, verdict: verdict) : nil
                return ScanLine(manifest: manifest, spans: records.attributeSpans(document: document, verdict: verdict),
                                keys: verdict.summaryKeys(index: index))
            },
            consume: { batch, lines in
                // One attribute line per record: a record's segments are consecutive documents of
                // one batch, and their spans go on one line.
                var pending = AttributeSpans()
                for (position, line) in lines.enumerated() {
                    counts.documents += 1
                    if let manifest = line.manifest {
                        output.manifest.write(manifest)
                        output.manifest.write(CollectionOfOne(0x0A))
                        counts.count(line.keys)
                    }
                    for vendor in line.keys.markerVendors { counts.markersByVendor[vendor, default: 0] += 1 }
                    if let verdict = line.keys.style, let model = matcher.style {
                        styleTally?.count(verdict, model: model)
                    }
                    pending.append(line.spans)
                    let document = batch.documents[position]
                    if position + 1 == lines.count || batch.documents[position + 1].line != document.line {
                        output.attributes?.write(records.attributeLine(id: document.id, spans: pending))
                        output.attributes?.write(CollectionOfOne(0x0A))
                        pending = AttributeSpans()
                    }
                }
                textBytes += batch.bytes.count
                progress?(Progress(shard: number, shardCount: shards.count, documents: counts.documents, bytes: textBytes, finished: false))
            })
        // The reader's last event ends the stream, so its result is there once the stream is done.
        guard let result = shardEnd.value else {
            throw StageError(stage: .scan, task: task, reason: "\(path): the reader ended without a result")
        }
        if let styleTally, let model = matcher.style, styleTally.documents > 0 {
            counts.updateStyle { $0.add(styleTally, model: model) }
        }
        counts.bytes = result.uncompressedBytes
        counts.badLines = result.badLines
        let status = RunStatus(failed: result.fatalError != nil, badLines: result.badLines)
        let shard = ScanSummary.Shard(
            path: result.path, format: result.format?.rawValue, size: result.compressedBytes, sha256: result.sha256,
            status: status, counts: counts, error: result.fatalError?.description,
            lineErrors: result.errors.filter { !$0.isFatalToShard }.map(\.description),
            seconds: Date().timeIntervalSince(started))
        try output.commit()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(Array(try encoder.encode(shard)), to: layout.unitSummaryPath(task), durable: false)
        let identity = ShardIdentity(path: path)
        try Ledger(directory: layout.directory).record(LedgerEntry(
            path: path, size: identity.size, modified: identity.modified, sha256: result.sha256,
            indexSHA256: context.indexSHA256, pipelineSHA256: configuration.sha256 ?? "defaults", status: status,
            documents: counts.documents, flagged: counts.flagged, badLines: counts.badLines,
            error: result.fatalError?.description, finishedAt: Self.timestamp(Date()), seconds: shard.seconds ?? 0))
        progress?(Progress(shard: number, shardCount: shards.count, documents: counts.documents, bytes: textBytes, finished: true))
    }

    /// Assembles manifest.jsonl (unit order), each shard's attribute file and summary.json from
    /// the units' parts.
    public func merge(context: Context) throws -> ScanSummary {
        let started = Date()
        let decoder = JSONDecoder()
        var merged: [ScanSummary.Shard?] = Array(repeating: nil, count: shards.count)
        var totals = ScanSummary.Counts()
        for (task, unit) in units.enumerated() {
            guard let data = FileManager.default.contents(atPath: layout.unitSummaryPath(task)) else {
                throw StageError(stage: .merge, task: 0,
                                 reason: "shard \(shards[unit.shard])\(unit.description) has not been scanned (no \(layout.unitSummaryPath(task)))")
            }
            let part = try decoder.decode(ScanSummary.Shard.self, from: data)
            totals.add(part.counts)
            merged[unit.shard] = merged[unit.shard].map { $0.merged(with: part) } ?? part
        }
        try layout.mergeManifests(unitCount: units.count)
        if request.configuration.writeAttributes {
            for shard in shards.indices {
                try layout.mergeAttributes(shard: shard, units: units.indices.filter { units[$0].shard == shard })
            }
        }
        let shardSummaries = merged.compactMap { $0 }
        let configuration = request.configuration
        let index = context.index
        let partial = !inputErrors.isEmpty || shardSummaries.contains { $0.status != .ok }
        let firstStart = shardSummaries.compactMap(\.seconds).reduce(0, +)
        var summary = ScanSummary(
            index: .init(path: request.indexPath, sha256: context.indexSHA256, parameters: index.parameters,
                         bands: index.metadata.bands, rows: index.metadata.rows, references: index.referenceCount, groups: index.groupCount,
                         segments: index.segments.count > 1 ? index.segments.map { .init(path: $0.path, sha256: $0.sha256, references: $0.referenceCount) } : nil),
            pipeline: .init(path: configuration.source, sha256: configuration.sha256),
            startedAt: Self.timestamp(started.addingTimeInterval(-firstStart)), finishedAt: Self.timestamp(Date()),
            host: ProcessInfo.processInfo.hostName, threads: configuration.effectiveThreads, status: partial ? .partial : .ok,
            totals: totals, shards: shardSummaries, inputErrors: inputErrors.map(\.description))
        if let model = context.matcher.style?.header {
            summary.style = .init(
                minimumWords: model.minimumWords, vendorMinimumWords: model.vendorMinimumWords, totals: StyleProfile(counts: totals.style ?? StyleCounts(), header: model),
                shards: Dictionary(shardSummaries.map { ($0.path, StyleProfile(counts: $0.counts.style ?? StyleCounts(), header: model)) },
                                   uniquingKeysWith: { first, _ in first }))
        }
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

/// Hands a non-Sendable value to a stage: the progress callback, which shard tasks call from
/// their own threads (the CLI's progress line takes a lock).
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// A value that one thread sets and another reads only after joining the first's work.
final class HandOff<Value>: @unchecked Sendable {
    var value: Value?
}

/// What scanning one document adds to the shard's output.
struct ScanLine: Sendable {
    var manifest: [UInt8]?
    var spans: AttributeSpans
    var keys: DocumentVerdict.SummaryKeys
}

extension DocumentVerdict {
    /// What a flagged document adds to the summary's counts: its detectors, and the model and
    /// vendor of its best match.
    struct SummaryKeys: Sendable {
        var detectors: [String]
        var model: String?
        var vendor: String?
        var markerVendors: [String]
        var style: StyleVerdict?
    }

    func summaryKeys(index: SegmentedIndex) -> SummaryKeys {
        let best = matches.first.map { index.reference(index.representative(ofGroup: $0.group)) }
        var vendors: [String] = []
        for marker in markers where !vendors.contains(marker.vendor) { vendors.append(marker.vendor) }
        return SummaryKeys(detectors: detectors, model: best?.model, vendor: best?.vendor, markerVendors: vendors, style: style)
    }
}

extension ScanSummary.Counts {
    mutating func count(_ keys: DocumentVerdict.SummaryKeys) {
        flagged += 1
        for detector in keys.detectors { byDetector[detector, default: 0] += 1 }
        if let model = keys.model { byModel[model, default: 0] += 1 }
        if let vendor = keys.vendor { byVendor[vendor, default: 0] += 1 }
    }
}
