/// The contents of summary.json: provenance and counts of one scan.
public struct ScanSummary: Codable, Sendable {
    /// The index a scan used: its path, SHA-256, fingerprint parameters and what it holds.
    public struct IndexProvenance: Codable, Sendable {
        public var path: String
        /// The index file's SHA-256; with segments, the SHA-256 of theirs in order.
        public var sha256: String
        public var parameters: FingerprintParameters
        public var bands: Int
        public var rows: Int
        public var references: Int
        public var groups: Int
        /// The base file and the segments added to it (`echoscan index add`); absent for an
        /// index of one file.
        public var segments: [Segment]?

        public struct Segment: Codable, Sendable {
            public var path: String
            public var sha256: String
            public var references: Int
        }
    }

    /// The pipeline file a run used (nil path and hash for the built-in defaults).
    public struct PipelineProvenance: Codable, Sendable {
        public var path: String?
        public var sha256: String?
    }

    /// What a scan counted: documents, flagged documents, bytes, bad lines, flags by detector, model and vendor.
    public struct Counts: Codable, Sendable, Equatable {
        public var documents = 0
        public var flagged = 0
        public var bytes = 0
        public var badLines = 0
        public var byDetector: [String: Int] = [:]
        public var byModel: [String: Int] = [:]
        public var byVendor: [String: Int] = [:]
        public var markersByVendor: [String: Int] = [:]
        /// The style detector's counts, when the index has a style model.
        public var style: StyleCounts?

        enum CodingKeys: String, CodingKey {
            case documents, flagged, bytes, badLines = "bad_lines", byDetector = "by_detector"
            case byModel = "by_model", byVendor = "by_vendor", markersByVendor = "markers_by_vendor", style
        }

        mutating func add(_ other: Counts) {
            documents += other.documents
            flagged += other.flagged
            bytes += other.bytes
            badLines += other.badLines
            byDetector.merge(other.byDetector, uniquingKeysWith: +)
            byModel.merge(other.byModel, uniquingKeysWith: +)
            byVendor.merge(other.byVendor, uniquingKeysWith: +)
            markersByVendor.merge(other.markersByVendor, uniquingKeysWith: +)
            if let theirs = other.style { updateStyle { $0.add(theirs) } }
        }

        /// Changes the style counts in place (created when absent): they are taken out while
        /// changed, so that their dictionaries are not copied.
        mutating func updateStyle(_ change: (inout StyleCounts) -> Void) {
            var counts = style ?? StyleCounts()
            style = nil
            change(&counts)
            style = counts
        }
    }

    public typealias Shard = ShardReport<Counts>

    public var echoscanVersion = EchoScanVersion.current
    public var index: IndexProvenance
    public var pipeline: PipelineProvenance
    public var startedAt: String
    public var finishedAt: String
    public var host: String
    public var threads: Int
    /// `.ok` when every shard was read whole, `.partial` otherwise.
    public var status: RunStatus
    public var totals: Counts
    public var shards: [Shard]
    public var inputErrors: [String]
    /// Present when deduplication ran before the scan: contamination per unique document.
    public var deduplication: Deduplication?
    /// The style profile of the scan and of each shard, when the index has a style model.
    public var style: Style?

    /// The style profile of the run and of each shard, and the lengths from which it gave verdicts.
    public struct Style: Codable, Sendable {
        /// Texts shorter than this got no style verdict.
        public var minimumWords: Int
        /// Texts shorter than this got no vendor.
        public var vendorMinimumWords: Int
        public var totals: StyleProfile
        /// By shard path.
        public var shards: [String: StyleProfile]

        enum CodingKeys: String, CodingKey { case minimumWords = "minimum_words", vendorMinimumWords = "vendor_minimum_words", totals, shards }

        init(minimumWords: Int, vendorMinimumWords: Int, totals: StyleProfile, shards: [String: StyleProfile]) {
            self.minimumWords = minimumWords
            self.vendorMinimumWords = vendorMinimumWords
            self.totals = totals
            self.shards = shards
        }

        /// A summary written before vendors had a length of their own named them from
        /// `minimum_words`: `echoscan diff` still reads it.
        public init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            minimumWords = try container.decode(Int.self, forKey: .minimumWords)
            vendorMinimumWords = try container.decodeIfPresent(Int.self, forKey: .vendorMinimumWords) ?? minimumWords
            totals = try container.decode(StyleProfile.self, forKey: .totals)
            shards = try container.decode([String: StyleProfile].self, forKey: .shards)
        }
    }

    /// Contamination per unique document, when dedup ran before the scan.
    public struct Deduplication: Codable, Sendable {
        public var uniqueDocuments: Int
        public var flaggedUnique: Int
        public var duplicates: Int

        enum CodingKeys: String, CodingKey {
            case uniqueDocuments = "unique_documents", flaggedUnique = "flagged_unique", duplicates
        }
    }

    enum CodingKeys: String, CodingKey {
        case echoscanVersion = "echoscan_version", index, pipeline, startedAt = "started_at", finishedAt = "finished_at"
        case host, threads, status, totals, shards, inputErrors = "input_errors", deduplication, style
    }
}

/// What a run did with one shard: where it is, its checksum, how reading it ended, and the
/// run's counts for it (scan or dedup counts).
public struct ShardReport<Counts: Codable & Sendable>: Codable, Sendable {
    public var path: String
    public var format: String?
    public var size: Int
    public var sha256: String?
    public var status: RunStatus
    public var counts: Counts
    public var error: String?
    public var lineErrors: [String]
    /// Time spent on the shard, when the run measures it.
    public var seconds: Double?

    enum CodingKeys: String, CodingKey {
        case path, format, size, sha256, status, counts, error, lineErrors = "line_errors", seconds
    }
}

extension ShardReport where Counts == ScanSummary.Counts {
    /// The report of a shard scanned in units: counts added, the worse status, the first error,
    /// the hash of the unit that read the whole file.
    func merged(with other: Self) -> Self {
        var merged = self
        merged.counts.add(other.counts)
        merged.status = max(merged.status, other.status)
        merged.error = merged.error ?? other.error
        merged.lineErrors = Array((merged.lineErrors + other.lineErrors).prefix(ShardReadResult.keptLineErrors))
        merged.sha256 = merged.sha256 ?? other.sha256
        merged.format = merged.format ?? other.format
        merged.seconds = (merged.seconds ?? 0) + (other.seconds ?? 0)
        return merged
    }
}
