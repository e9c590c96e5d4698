import ArgumentParser
import EchoScan
import Foundation

struct IndexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Build and inspect reference indexes of known model outputs.",
        subcommands: [Build.self, Add.self, Compact.self, Info.self, List.self, Verify.self])

    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build a reference index from JSONL files with text, id, model and vendor fields.")

        @Option(name: .shortAndLong, help: "The index file to write.")
        var output: String

        @Option(parsing: .upToNextOption, help: "Human-written text: k-grams found there are common, not evidence.")
        var background: [String] = []

        @Option(help: "k-grams in more reference groups than this are stock phrases.")
        var maxDocumentFrequency = IndexBuildOptions().maximumDocumentFrequency

        @Option(help: "Tokens per k-gram.")
        var shingleSize = FingerprintParameters().shingleSize

        @Option(help: "MinHash permutations.")
        var permutations = FingerprintParameters().permutations

        @Option(help: "Winnowing window, in k-grams.")
        var winnowWindow = FingerprintParameters().winnowWindow

        @Flag(inversion: .prefixedNo, help: "Train the style detector's model (vendors' style, and model-written against human text).")
        var style = true

        @OptionGroup var build: BuildArguments

        @Argument(help: "Reference files, directories or globs.")
        var references: [String]

        func validate() throws {
            guard shingleSize >= 1, permutations >= 1, winnowWindow >= 1 else {
                throw ValidationError("--shingle-size, --permutations and --winnow-window must be at least 1")
            }
        }

        func run() throws {
            var options = try build.options()
            options.maximumDocumentFrequency = maxDocumentFrequency
            options.parameters.shingleSize = shingleSize
            options.parameters.permutations = permutations
            options.parameters.winnowWindow = winnowWindow
            options.style.enabled = style
            try build.build(expanding(references), background: expanding(background), output: output, options: options)
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add references to an index as a new segment, without rebuilding it; scans search all segments as one.",
            discussion: """
                The segment is INDEX.segment-N beside the index, listed in INDEX.segments. Its k-grams' rarity is \
                counted over the whole index; its fingerprint parameters, thresholds and background text are the \
                index's. `echoscan index compact` makes one file of the index and its segments again.
                """)

        @Option(help: "The index to add to.")
        var index: String

        @Option(parsing: .upToNextOption, help: "Human-written text (default: the background text the index was built with).")
        var background: [String] = []

        @OptionGroup var build: BuildArguments

        @Argument(help: "Reference files, directories or globs.")
        var references: [String]

        func run() throws {
            let opened = try openIndex(index)
            let backgroundPaths = background.isEmpty ? try recordedPaths(opened.metadata.backgroundSources, of: index) : try expanding(background)
            let (report, path) = try build.run { try IndexBuilder(options: $0).addSegment(references: try expanding(references), background: backgroundPaths, to: opened) }
            build.print(report, output: path)
            print("\(index): \(URL(fileURLWithPath: path).lastPathComponent) added; \(opened.referenceCount + report.metadata.referenceCount) references in \(opened.segments.count + 1) segments")
        }
    }

    struct Compact: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make one index file of an index and its segments again: a build from the files they were built from.",
            discussion: """
                The reference and background files the index and its segments record are read again (from the \
                current directory, for relative paths) and must have the SHA-256 they had; the result is \
                byte-identical to `echoscan index build` of those files with the index's parameters. Give the \
                reader options (--text-field, --format, ...) the index was built with.
                """)

        @Argument(help: "The index file.")
        var index: String

        @OptionGroup var build: BuildArguments

        func run() throws {
            let opened = try openIndex(index)
            guard opened.segments.count > 1 else {
                print("\(index): one segment, nothing to compact")
                return
            }
            var options = try build.options()
            options.adopt(opened.metadata)
            options.style.enabled = opened.style != nil
            let recorded = opened.segments.flatMap(\.metadata.sources)
            let rebuilt = index + ".compacting"
            let report = try build.build(try recordedPaths(recorded, of: index),
                                         background: try recordedPaths(opened.metadata.backgroundSources, of: index),
                                         output: rebuilt, options: options)
            let changed = zip(report.metadata.sources, recorded).first { $0.sha256 != $1.sha256 || $0.records != $1.records }
            guard report.metadata.referenceCount == opened.referenceCount, changed == nil else {
                try? FileManager.default.removeItem(atPath: rebuilt)
                throw CommandError("\(index): " + (changed.map { "\($0.1.path) has changed since it was indexed" }
                    ?? "the rebuild holds \(report.metadata.referenceCount) references, the index \(opened.referenceCount) (other reader options?)"))
            }
            guard rename(rebuilt, index) == 0 else { throw CommandError("cannot replace \(index): \(String(cString: strerror(errno)))") }
            try? FileManager.default.removeItem(atPath: SegmentList.path(forIndex: index))
            for segment in opened.segments.dropFirst() { try? FileManager.default.removeItem(atPath: segment.path) }
            print("\(index): \(opened.segments.count) segments compacted into one")
        }
    }

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print an index's parameters, sources, counts and checksum.")

        @Argument(help: "The index file.")
        var index: String

        func run() throws {
            let opened = try openIndex(index)
            let metadata = opened.metadata
            print("index \(index)")
            print("  size \(opened.base.fileSize) bytes, sha256 \(opened.base.sha256) (of the content after the header; `index verify` checks it)")
            print("  format \(metadata.formatVersion), built by echoscan \(metadata.echoscanVersion)")
            if opened.segments.count > 1 {
                print("  segments: the file below and \(opened.segments.count - 1) added (\(SegmentList.path(forIndex: index))): \(opened.referenceCount) references in \(opened.groupCount) groups; a scan records sha256 \(opened.sha256)")
                for (number, segment) in opened.segments.enumerated().dropFirst() {
                    print("    segment \(number) \(URL(fileURLWithPath: segment.path).lastPathComponent): \(segment.referenceCount) references in \(segment.groupCount) groups, \(segment.fileSize) bytes, sha256 \(segment.sha256)")
                }
            }
            let p = metadata.parameters
            print("  parameters: seed \(p.seed), shingle \(p.shingleSize), permutations \(p.permutations), winnow window \(p.winnowWindow) (runs of \(p.guaranteedRun) tokens guaranteed), LSH \(metadata.bands)x\(metadata.rows) for Jaccard \(p.nearDuplicateThreshold)")
            print("  references \(metadata.referenceCount) in \(metadata.groupCount) groups (grouping at MinHash similarity \(metadata.groupingThreshold)); \(metadata.skippedRecords) bad records skipped")
            print("  postings \(metadata.postingCount); common k-grams: \(metadata.commonByFrequency) in more than \(metadata.maximumDocumentFrequency) groups, \(metadata.commonByBackground) in background text, \(metadata.commonByPrompt) in prompts")
            let null = opened.nullModel
            // With segments, the base's, which calibrates them all.
            let thresholds = [0.01, 0.001, 0.0001].map { String(format: "%.1f at %g", null.threshold(forRate: $0), $0) }
            print("  null sample: \(null.scores.count) references against the other groups; evidence needed: \(thresholds.joined(separator: ", "))")
            for (number, model) in null.byLength.enumerated() {
                guard let model else { continue }
                let bounds = NullModel.lengthBounds
                let name = number < bounds.count ? "under \(bounds[number]) tokens" : "from \(bounds[bounds.count - 1]) tokens"
                print(String(format: "    texts %@: %d of them; evidence needed: %.1f at 0.001", name, model.scores.count, model.threshold(forRate: 0.001)))
            }
            if let style = opened.style?.header {
                let calibration = style.calibration
                let human = style.scoresModelWritten ? " and human text"
                    : style.hasHumanClass ? " (held-out references read no more model-written than held-out human text: no model-written score)"
                    : " (no human text was given: no model-written score)"
                print("  style model: vendors \(style.vendors.joined(separator: ", "))\(human)")
                print("    held out: \(calibration.references) references in \(calibration.folds) folds by model, \(calibration.humans) human texts; verdicts from \(Self.length(style.minimumWords)), vendors from \(Self.length(style.vendorMinimumWords))"
                      + (calibration.modelWrittenAUROC.map { String(format: "; model-written AUROC %.3f", $0) } ?? ""))
                for bucket in calibration.buckets {
                    print(String(format: "    from %3d words: %5d references, vendor accuracy %.3f, model-written recall %.3f; %4d human texts, %.3f called model-written",
                                 bucket.minimumWords, bucket.references, bucket.vendorAccuracy, bucket.modelWrittenRecall, bucket.humans, bucket.humanFalsePositives))
                }
            } else {
                print("  style model: none (it needs two vendors with 50 references or more)")
            }
            var perModel: [String: Int] = [:]
            var perVendor: [String: Int] = [:]
            for index in 0..<opened.referenceCount {
                let reference = opened.reference(index)
                perModel[reference.model, default: 0] += 1
                perVendor[reference.vendor, default: 0] += 1
            }
            print("  vendors:")
            for (vendor, count) in perVendor.sorted(by: { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }) {
                print("    \(vendor): \(count)")
            }
            print("  models:")
            for (model, count) in perModel.sorted(by: { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }) {
                print("    \(model): \(count)")
            }
            print("  sources:")
            for source in opened.segments.flatMap(\.metadata.sources) { print("    \(source.path) \(source.records) records, \(source.bytes) bytes, sha256 \(source.sha256)") }
            for source in metadata.backgroundSources { print("    background \(source.path) \(source.records) records, sha256 \(source.sha256)") }
        }

        /// A style model's minimum length as `index info` prints it.
        static func length(_ words: Int) -> String { words >= StyleModel.noLength ? "no length" : "\(words) words" }
    }
}

extension IndexCommand {
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read a whole index: its SHA-256, every section's checksum, every posting (exit 1 when damaged).")

        @Argument(help: "The index file.")
        var index: String

        func run() throws {
            let problems = try openIndex(index).verify()
            guard problems.isEmpty else { throw CommandError("\(index): " + problems.joined(separator: "; ")) }
            print("\(index): sound")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print every reference of an index as JSONL: id, model, vendor, group.")

        @Argument(help: "The index file.")
        var index: String

        func run() throws {
            let opened = try openIndex(index)
            let output = BufferedOutput(descriptor: 1)
            for number in 0..<opened.referenceCount {
                let reference = opened.reference(number)
                var line = JSONWriter()
                line.beginObject()
                line.key("id"); line.string(reference.id)
                line.key("model"); line.string(reference.model)
                line.key("vendor"); line.string(reference.vendor)
                line.key("group"); line.integer(reference.group)
                line.endObject()
                output.write(line.bytes)
                output.write([0x0A])
            }
            output.flush()
        }
    }
}

/// What building an index or a segment takes besides its parameters: how references are read,
/// threads, sort memory and scratch space.
struct BuildArguments: ParsableArguments {
    @Option(help: "Field path of the model name (record level).")
    var modelField = "model"

    @Option(help: "Field path of the vendor name; without it, the vendor table names the vendor from the model.")
    var vendorField = "vendor"

    @Option(help: "Worker threads (default: all cores).")
    var threads = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "MiB of memory for sorting k-grams and band hashes; beyond it, sorted runs spill to disk.")
    var sortMemory = IndexBuildOptions().sortMemoryBytes >> 20

    @Option(help: "Folder for scratch files (default: the output's folder); about 40 bytes per reference token.")
    var scratchDir = ""

    @OptionGroup var reader: ReaderArguments

    func validate() throws {
        guard threads >= 1, sortMemory >= 1 else { throw ValidationError("--threads and --sort-memory must be at least 1") }
    }

    func options() throws -> IndexBuildOptions {
        var options = IndexBuildOptions()
        options.reader = reader.options(over: options.reader)
        do {
            options.modelPath = try FieldPath(modelField)
            options.vendorPath = try FieldPath(vendorField)
        } catch {
            throw ValidationError(error.description)
        }
        options.threads = threads
        options.sortMemoryBytes = sortMemory << 20
        options.scratchDirectory = scratchDir
        return options
    }

    /// Builds and reports what was written.
    @discardableResult
    func build(_ references: [String], background: [String], output: String, options: IndexBuildOptions) throws -> IndexBuildReport {
        let report = try run { _ in try IndexBuilder(options: options).build(references: references, background: background, output: output) }
        print(report, output: output)
        return report
    }

    /// Runs a build with these options, a bad input's error as one line.
    func run<Result>(_ body: (IndexBuildOptions) throws -> Result) throws -> Result {
        do {
            return try body(try options())
        } catch let error as ShardError {
            throw CommandError(error.description)
        } catch let error as IndexError {
            throw CommandError(error.description)
        }
    }

    func print(_ report: IndexBuildReport, output: String) {
        for warning in report.warnings { log("warning: \(warning)") }
        let megabytes = Double(report.referenceBytes) / 1_000_000
        Swift.print("""
            wrote \(output): \(report.metadata.referenceCount) references in \(report.metadata.groupCount) groups, \
            \(report.metadata.postingCount) postings, \(report.metadata.commonByFrequency + report.metadata.commonByBackground + report.metadata.commonByPrompt) common k-grams
            \(String(format: "%.1f", megabytes)) MB of reference text in \(String(format: "%.2f", report.seconds)) s \
            (\(String(format: "%.1f", megabytes / report.seconds / Double(threads))) MB/s per core, \(threads) threads); \
            index \(report.indexBytes) bytes (\(String(format: "%.2f", Double(report.indexBytes) / Double(max(report.referenceBytes, 1)))) bytes per reference byte)
            """)
    }
}

/// Files, directories or globs as the shard paths they stand for.
func expanding(_ inputs: [String]) throws -> [String] {
    let (paths, errors) = ShardInputs.expand(inputs)
    if let first = errors.first { throw CommandError(first.description) }
    return paths
}

/// The paths of the files an index records it was built from; each must still exist.
func recordedPaths(_ sources: [IndexMetadata.Source], of index: String) throws -> [String] {
    for source in sources where !FileManager.default.fileExists(atPath: source.path) {
        throw CommandError("\(index) was built from \(source.path), which is not found from here (paths are as given to the build)")
    }
    return sources.map(\.path)
}

/// A failure worth one clear line on standard error and exit status 1.
struct CommandError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

func openIndex(_ path: String) throws -> SegmentedIndex {
    do {
        return try SegmentedIndex(path: path)
    } catch let error as IndexError {
        throw CommandError(error.description)
    }
}
