import ArgumentParser
import EchoScan
import Foundation

struct IndexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Build and inspect reference indexes of known model outputs.",
        subcommands: [Build.self, Info.self, List.self, Verify.self])

    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build a reference index from JSONL files with text, id, model and vendor fields.")

        @Option(name: .shortAndLong, help: "The index file to write.")
        var output: String

        @Option(parsing: .upToNextOption, help: "Human-written text: k-grams found there are common, not evidence.")
        var background: [String] = []

        @Option(help: "Field path of the model name (record level).")
        var modelField = "model"

        @Option(help: "Field path of the vendor name; without it, the vendor table names the vendor from the model.")
        var vendorField = "vendor"

        @Option(help: "k-grams in more reference groups than this are stock phrases.")
        var maxDocumentFrequency = IndexBuildOptions().maximumDocumentFrequency

        @Option(help: "Tokens per k-gram.")
        var shingleSize = FingerprintParameters().shingleSize

        @Option(help: "MinHash permutations.")
        var permutations = FingerprintParameters().permutations

        @Option(help: "Winnowing window, in k-grams.")
        var winnowWindow = FingerprintParameters().winnowWindow

        @Option(help: "Worker threads (default: all cores).")
        var threads = ProcessInfo.processInfo.activeProcessorCount

        @Option(help: "MiB of memory for sorting k-grams and band hashes; beyond it, sorted runs spill to disk.")
        var sortMemory = IndexBuildOptions().sortMemoryBytes >> 20

        @Option(help: "Folder for scratch files (default: the output's folder); about 40 bytes per reference token.")
        var scratchDir = ""

        @Flag(inversion: .prefixedNo, help: "Train the style detector's model (vendors' style, and model-written against human text).")
        var style = true

        @OptionGroup var reader: ReaderArguments

        @Argument(help: "Reference files, directories or globs.")
        var references: [String]

        func validate() throws {
            guard shingleSize >= 1, permutations >= 1, winnowWindow >= 1, threads >= 1, sortMemory >= 1 else {
                throw ValidationError("--shingle-size, --permutations, --winnow-window, --threads and --sort-memory must be at least 1")
            }
        }

        func run() throws {
            var options = IndexBuildOptions()
            options.reader = reader.options(over: options.reader)
            do {
                options.modelPath = try FieldPath(modelField)
                options.vendorPath = try FieldPath(vendorField)
            } catch {
                throw ValidationError(error.description)
            }
            options.maximumDocumentFrequency = maxDocumentFrequency
            options.parameters.shingleSize = shingleSize
            options.parameters.permutations = permutations
            options.parameters.winnowWindow = winnowWindow
            options.threads = threads
            options.sortMemoryBytes = sortMemory << 20
            options.style.enabled = style
            options.scratchDirectory = scratchDir
            let (paths, errors) = ShardInputs.expand(references)
            if let first = errors.first { throw CommandError(first.description) }
            let backgroundPaths = ShardInputs.expand(background)
            if let first = backgroundPaths.errors.first { throw CommandError(first.description) }
            do {
                let report = try IndexBuilder(options: options).build(references: paths, background: backgroundPaths.paths, output: output)
                for warning in report.warnings { log("warning: \(warning)") }
                let megabytes = Double(report.referenceBytes) / 1_000_000
                print("""
                    wrote \(output): \(report.metadata.referenceCount) references in \(report.metadata.groupCount) groups, \
                    \(report.metadata.postingCount) postings, \(report.metadata.commonByFrequency + report.metadata.commonByBackground + report.metadata.commonByPrompt) common k-grams
                    \(String(format: "%.1f", megabytes)) MB of reference text in \(String(format: "%.2f", report.seconds)) s \
                    (\(String(format: "%.1f", megabytes / report.seconds / Double(threads))) MB/s per core, \(threads) threads); \
                    index \(report.indexBytes) bytes (\(String(format: "%.2f", Double(report.indexBytes) / Double(max(report.referenceBytes, 1)))) bytes per reference byte)
                    """)
            } catch let error as ShardError {
                throw CommandError(error.description)
            }
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
            print("  size \(opened.fileSize) bytes, sha256 \(opened.sha256) (of the content after the header; `index verify` checks it)")
            print("  format \(metadata.formatVersion), built by echoscan \(metadata.echoscanVersion)")
            let p = metadata.parameters
            print("  parameters: seed \(p.seed), shingle \(p.shingleSize), permutations \(p.permutations), winnow window \(p.winnowWindow) (runs of \(p.guaranteedRun) tokens guaranteed), LSH \(metadata.bands)x\(metadata.rows) for Jaccard \(p.nearDuplicateThreshold)")
            print("  references \(metadata.referenceCount) in \(metadata.groupCount) groups (grouping at MinHash similarity \(metadata.groupingThreshold)); \(metadata.skippedRecords) bad records skipped")
            print("  postings \(metadata.postingCount); common k-grams: \(metadata.commonByFrequency) in more than \(metadata.maximumDocumentFrequency) groups, \(metadata.commonByBackground) in background text, \(metadata.commonByPrompt) in prompts")
            let null = opened.nullModel
            let thresholds = [0.01, 0.001, 0.0001].map { String(format: "%.1f at %g", null.threshold(forRate: $0), $0) }
            print("  null sample: \(null.scores.count) references against the other groups; evidence needed: \(thresholds.joined(separator: ", "))")
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
            for source in metadata.sources { print("    \(source.path) \(source.records) records, \(source.bytes) bytes, sha256 \(source.sha256)") }
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

/// A failure worth one clear line on standard error and exit status 1.
struct CommandError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

func openIndex(_ path: String) throws -> ReferenceIndex {
    do {
        return try ReferenceIndex(path: path)
    } catch let error as IndexError {
        throw CommandError(error.description)
    }
}
