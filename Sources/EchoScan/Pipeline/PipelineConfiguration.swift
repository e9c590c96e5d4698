import Foundation
import Yams

/// A pipeline file (YAML): what to read, which detectors with which thresholds, and where the
/// results go. Every key is optional; pipelines/default.yaml lists them all with their defaults.
public struct PipelineConfiguration: Sendable {
    public var reader = ReaderOptions()
    public var match = MatchOptions()
    /// Path of the marker list; relative paths are taken from the pipeline file's folder.
    public var markerFile: String?
    /// Worker threads; 0 means one per core.
    public var threads = 0
    /// Corpus deduplication (`echoscan dedup`, and the scan's `dedup` stage).
    public var dedup = DedupOptions()
    /// Write Dolma-style attribute files beside the manifest.
    public var writeAttributes = true
    /// `echoscan run` and `audit`: a name for metrics, inputs, the index (built from
    /// `indexReferences` when the file is missing), the output directory and the stages.
    public var job = "echoscan"
    public var inputs: [String] = []
    public var indexPath: String?
    public var indexReferences: [String] = []
    public var indexBackground: [String] = []
    /// References to add to the index as a segment before a run (`index.add`): those of these
    /// files that no segment of the index was built from yet (`IndexBuilder.addSegment`).
    public var indexAdditions: [String] = []
    /// How the index is built when it is missing (`index.max_document_frequency`, `index.sort_memory_mb`).
    public var indexBuild = IndexBuildOptions()
    public var output: String?
    public var stages: [PipelineStage] = [.scan, .report]
    /// The audit gate: more flagged documents, or a higher flagged rate, fails the audit.
    public var auditMaximumFlagged: Int?
    public var auditMaximumRate: Double?
    /// Where this configuration came from and its SHA-256 (nil for the built-in defaults).
    public var source: String?
    public var sha256: String?

    public init() {}

    public var effectiveThreads: Int { threads > 0 ? threads : ProcessInfo.processInfo.activeProcessorCount }

    /// A pipeline file that cannot be read: its path and the key and reason.
    public struct Error: Swift.Error, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var description: String { "\(path): \(reason)" }
    }

    /// Reads a pipeline file. Unknown keys are refused so that a typo never silently falls back
    /// to a default.
    public static func load(path: String) throws -> PipelineConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Error(path: path, reason: "cannot read the pipeline file")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw Error(path: path, reason: "not UTF-8") }
        let root: Node
        do {
            guard let parsed = try Yams.compose(yaml: text) else { return PipelineConfiguration() }
            root = parsed
        } catch {
            throw Error(path: path, reason: "invalid YAML: \(error)")
        }
        var configuration = PipelineConfiguration()
        var reader = YAMLReader(path: path)
        try reader.apply(root, to: &configuration)
        if reader.dedupBeforeScan && !configuration.stages.contains(.dedup) { configuration.stages.insert(.dedup, at: 0) }
        configuration.source = path
        configuration.sha256 = SHA256.hash(data: data).hexString
        if let file = configuration.markerFile, !file.hasPrefix("/") {
            configuration.markerFile = ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent(file)
        }
        return configuration
    }

    /// The marker phrases of the configuration's marker file, or the built-in list
    /// (pipelines/markers/markers-v1.yaml, compiled into the binary).
    public func loadMarkers() throws -> [MarkerPhrase] {
        guard match.markers.enabled else { return [] }
        guard let markerFile else { return try MarkerList.parse(EmbeddedDefaults.markers.text, source: EmbeddedDefaults.markers.path).markers }
        guard FileManager.default.fileExists(atPath: markerFile) else {
            throw Error(path: markerFile, reason: "marker list not found (detectors.marker.file)")
        }
        return try MarkerList.load(path: markerFile).markers
    }

    /// What decides a scan's output besides the index and the shard: the reader's paths and
    /// limits, the detectors' options and phrases, whether attributes are written. Threads, batch
    /// sizes and task sizes are not in it, so changing them never rescans a shard.
    public func scanKey(markers: [MarkerPhrase]) -> String {
        let phrases = markers.map { "\($0.phrase)\u{1}\($0.vendor)" }.joined(separator: "\u{2}")
        let text = "reader \(reader.fieldsDescription) \(reader.maximumLineBytes) \(reader.strict) match \(match) "
            + "markers \(SHA256.hash(data: Data(phrases.utf8)).hexString) attributes \(writeAttributes)"
        return SHA256.hash(data: Data(text.utf8)).hexString
    }
}

/// Applies a YAML tree to a configuration, naming the offending key on any error.
struct YAMLReader {
    let path: String
    /// `dedup.before_scan`.
    var dedupBeforeScan = false

    func fail(_ key: String, _ reason: String) -> PipelineConfiguration.Error {
        PipelineConfiguration.Error(path: path, reason: "\(key): \(reason)")
    }

    func mapping(_ node: Node, _ key: String, allowed: Set<String>) throws -> [(String, Node)] {
        guard let mapping = node.mapping else { throw fail(key, "expected a mapping") }
        var pairs: [(String, Node)] = []
        for (name, value) in mapping {
            guard let name = name.string else { throw fail(key, "keys must be strings") }
            guard allowed.contains(name) else {
                throw fail(key.isEmpty ? name : "\(key).\(name)", "unknown key (allowed: \(allowed.sorted().joined(separator: ", ")))")
            }
            pairs.append((name, value))
        }
        return pairs
    }

    func strings(_ node: Node, _ key: String) throws -> [String] {
        if let single = node.string, node.sequence == nil { return [single] }
        guard let sequence = node.sequence else { throw fail(key, "expected a list of strings") }
        return try sequence.map { try string($0, key) }
    }

    func fieldPaths(_ node: Node, _ key: String) throws -> [FieldPath] {
        let texts = try strings(node, key)
        guard !texts.isEmpty else { throw fail(key, "expected at least one field path") }
        return try texts.map { text in
            do { return try FieldPath(text) } catch { throw fail(key, "\(error)") }
        }
    }

    func int(_ node: Node, _ key: String) throws -> Int {
        guard let value = node.int else { throw fail(key, "expected an integer") }
        return value
    }

    func double(_ node: Node, _ key: String) throws -> Double {
        guard let value = node.float else { throw fail(key, "expected a number") }
        return value
    }

    func bool(_ node: Node, _ key: String) throws -> Bool {
        guard let value = node.bool else { throw fail(key, "expected true or false") }
        return value
    }

    func string(_ node: Node, _ key: String) throws -> String {
        guard let value = node.string else { throw fail(key, "expected a string") }
        return value
    }

    func share(_ node: Node, _ key: String) throws -> Double {
        let value = try double(node, key)
        guard (0...1).contains(value) else { throw fail(key, "must lie between 0 and 1") }
        return value
    }

    mutating func apply(_ root: Node, to configuration: inout PipelineConfiguration) throws {
        let keys: Set<String> = ["version", "reader", "threads", "detectors", "outputs", "dedup", "job", "inputs", "index", "output", "stages", "audit"]
        for (key, value) in try mapping(root, "", allowed: keys) {
            switch key {
            case "version":
                guard try int(value, key) == 1 else { throw fail(key, "this echoscan reads pipeline version 1") }
            case "threads":
                configuration.threads = try int(value, key)
            case "reader":
                let pairs = try mapping(value, key, allowed: ["format", "text_field", "prompt_field", "id_field", "max_line_bytes", "strict", "batch_bytes", "parquet_task_mb"])
                // The format's paths first, so that text_field and prompt_field override them.
                for (name, item) in pairs where name == "format" {
                    let text = try string(item, "reader.format")
                    guard let format = RecordFormat(rawValue: text) else {
                        throw fail("reader.format", "unknown format \(text) (formats: \(RecordFormat.allCases.map(\.rawValue).joined(separator: ", ")))")
                    }
                    configuration.reader.use(format)
                    configuration.indexBuild.reader.use(format)
                }
                for (name, item) in pairs where name != "format" {
                    let path = "reader.\(name)"
                    switch name {
                    case "text_field":
                        configuration.reader.textPaths = try fieldPaths(item, path)
                        configuration.indexBuild.reader.textPaths = configuration.reader.textPaths
                    case "prompt_field":
                        configuration.reader.promptPaths = try fieldPaths(item, path)
                        configuration.indexBuild.reader.promptPaths = configuration.reader.promptPaths
                    case "id_field":
                        guard let id = try fieldPaths(item, path).first else { throw fail(path, "expected a field path") }
                        configuration.reader.idPath = id
                        configuration.indexBuild.reader.idPath = id
                    case "max_line_bytes": configuration.reader.maximumLineBytes = try int(item, path)
                    case "batch_bytes": configuration.reader.batchBytes = try int(item, path)
                    case "parquet_task_mb":
                        let megabytes = try int(item, path)
                        guard megabytes >= 0 else { throw fail(path, "must be 0 (a task per row group) or more") }
                        configuration.reader.parquetTaskBytes = megabytes << 20
                    default: configuration.reader.strict = try bool(item, path)
                    }
                }
            case "dedup":
                try applyDedup(value, to: &configuration)
            case "job":
                configuration.job = try string(value, key)
            case "inputs":
                configuration.inputs = try strings(value, key)
            case "output":
                configuration.output = try string(value, key)
            case "stages":
                configuration.stages = try strings(value, key).map { name in
                    guard let stage = PipelineStage(rawValue: name) else {
                        throw fail(key, "unknown stage \(name) (stages are \(PipelineStage.allCases.map(\.rawValue).joined(separator: ", ")))")
                    }
                    return stage
                }
            case "index":
                let allowed: Set<String> = ["path", "references", "add", "background", "max_document_frequency", "sort_memory_mb",
                                            "model_field", "vendor_field", "vendors", "style"]
                for (name, item) in try mapping(value, key, allowed: allowed) {
                    switch name {
                    case "model_field":
                        guard let model = try fieldPaths(item, "index.model_field").first else { throw fail("index.model_field", "expected a field path") }
                        configuration.indexBuild.modelPath = model
                    case "vendor_field":
                        guard let vendor = try fieldPaths(item, "index.vendor_field").first else { throw fail("index.vendor_field", "expected a field path") }
                        configuration.indexBuild.vendorPath = vendor
                    case "vendors":
                        guard let sequence = item.sequence else { throw fail("index.vendors", "expected a list of {vendor, patterns}") }
                        let rules = try sequence.map { rule in
                            var vendor = ""
                            var patterns: [String] = []
                            for (field, part) in try mapping(rule, "index.vendors", allowed: ["vendor", "patterns"]) {
                                if field == "vendor" { vendor = try string(part, "index.vendors.vendor") } else { patterns = try strings(part, "index.vendors.patterns") }
                            }
                            guard !vendor.isEmpty, !patterns.isEmpty else { throw fail("index.vendors", "each rule needs a vendor and patterns") }
                            return VendorTable.Rule(vendor: vendor, patterns: patterns)
                        }
                        configuration.indexBuild.vendors = VendorTable.standard.extended(with: rules)
                    case "style": configuration.indexBuild.style.enabled = try bool(item, "index.style")
                    case "path": configuration.indexPath = try string(item, "index.path")
                    case "references": configuration.indexReferences = try strings(item, "index.references")
                    case "add": configuration.indexAdditions = try strings(item, "index.add")
                    case "background": configuration.indexBackground = try strings(item, "index.background")
                    case "max_document_frequency":
                        configuration.indexBuild.maximumDocumentFrequency = try int(item, "index.max_document_frequency")
                        guard configuration.indexBuild.maximumDocumentFrequency >= 1 else { throw fail("index.max_document_frequency", "must be at least 1") }
                    default:
                        let megabytes = try int(item, "index.sort_memory_mb")
                        guard megabytes >= 1 else { throw fail("index.sort_memory_mb", "must be at least 1") }
                        configuration.indexBuild.sortMemoryBytes = megabytes << 20
                    }
                }
            case "audit":
                for (name, item) in try mapping(value, key, allowed: ["max_flagged", "max_flagged_rate"]) {
                    if name == "max_flagged" {
                        configuration.auditMaximumFlagged = try int(item, "audit.max_flagged")
                    } else {
                        configuration.auditMaximumRate = try share(item, "audit.max_flagged_rate")
                    }
                }
            case "outputs":
                for (name, item) in try mapping(value, key, allowed: ["attributes", "max_matches"]) {
                    if name == "attributes" {
                        configuration.writeAttributes = try bool(item, "outputs.attributes")
                    } else {
                        configuration.match.maximumMatchesReported = try int(item, "outputs.max_matches")
                    }
                }
            default:
                try applyDetectors(value, to: &configuration)
            }
        }
    }

    mutating func applyDedup(_ node: Node, to configuration: inout PipelineConfiguration) throws {
        let keys: Set<String> = ["before_scan", "threshold", "permutations", "shingle_size", "minhash_scheme", "min_tokens", "sort_run_entries"]
        var dedup = configuration.dedup
        for (name, item) in try mapping(node, "dedup", allowed: keys) {
            let path = "dedup.\(name)"
            switch name {
            // Dedup before the scan, so that its summary also counts unique documents: the
            // dedup stage, whatever `stages:` says (keys are read in any order).
            case "before_scan": dedupBeforeScan = try bool(item, path)
            case "threshold": dedup.parameters.nearDuplicateThreshold = try share(item, path)
            case "permutations": dedup.parameters.permutations = try positive(item, path)
            case "shingle_size": dedup.parameters.shingleSize = try positive(item, path)
            case "min_tokens": dedup.minimumTokens = try int(item, path)
            case "sort_run_entries": dedup.sortRunEntries = try positive(item, path)
            default:
                guard let scheme = MinHashScheme(rawValue: try string(item, path)) else {
                    throw fail(path, "expected one of \(MinHashScheme.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                dedup.parameters.minHashScheme = scheme
            }
        }
        configuration.dedup = dedup
    }

    func positive(_ node: Node, _ key: String) throws -> Int {
        let value = try int(node, key)
        guard value >= 1 else { throw fail(key, "must be at least 1") }
        return value
    }

    func applyDetectors(_ node: Node, to configuration: inout PipelineConfiguration) throws {
        for (detector, settings) in try mapping(node, "detectors", allowed: ["max_false_match_rate", "near_duplicate", "containment", "marker", "style"]) {
            let base = "detectors.\(detector)"
            switch detector {
            case "max_false_match_rate":
                let rate = try share(settings, base)
                guard rate > 0 else { throw fail(base, "must be above 0") }
                configuration.match.maximumFalseMatchRate = rate
            case "near_duplicate":
                var near = configuration.match.nearDuplicate
                for (name, item) in try mapping(settings, base, allowed: ["enabled", "threshold", "min_tokens"]) {
                    let path = "\(base).\(name)"
                    switch name {
                    case "enabled": near.enabled = try bool(item, path)
                    case "threshold": near.threshold = try share(item, path)
                    default: near.minimumTokens = try int(item, path)
                    }
                }
                configuration.match.nearDuplicate = near
            case "containment":
                var containment = configuration.match.containment
                for (name, item) in try mapping(settings, base, allowed: ["enabled", "max_candidates", "min_hits"]) {
                    let path = "\(base).\(name)"
                    switch name {
                    case "enabled": containment.enabled = try bool(item, path)
                    case "max_candidates": containment.maximumCandidates = try positive(item, path)
                    default: containment.minimumHits = try positive(item, path)
                    }
                }
                configuration.match.containment = containment
            case "style":
                for (name, item) in try mapping(settings, base, allowed: ["enabled", "flag"]) {
                    let path = "\(base).\(name)"
                    switch name {
                    case "enabled": configuration.match.style.enabled = try bool(item, path)
                    default: configuration.match.style.flag = try bool(item, path)
                    }
                }
            default:
                for (name, item) in try mapping(settings, base, allowed: ["enabled", "flag", "file"]) {
                    let path = "\(base).\(name)"
                    switch name {
                    case "enabled": configuration.match.markers.enabled = try bool(item, path)
                    case "flag": configuration.match.markers.flag = try bool(item, path)
                    default: configuration.markerFile = try string(item, path)
                    }
                }
            }
        }
    }
}
