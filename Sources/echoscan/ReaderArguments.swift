#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import EchoScan

/// Options shared by every command that reads shards.
struct ReaderArguments: ParsableArguments {
    @Option(help: "Record shape: text, chat (messages), sharegpt (conversations), alpaca (output), preference (chosen, rejected).")
    var format: RecordFormat?

    @Option(help: "Field path of the document texts, e.g. text or messages[role=assistant].content (repeatable; overrides --format).")
    var textField: [String] = []

    @Option(help: "Field path of the prompts the texts answer (index build; repeatable; overrides --format).")
    var promptField: [String] = []

    @Option(help: "Field path of the record id (default: id).")
    var idField: String?

    @Option(help: "Longest line accepted, in bytes; longer lines are skipped and reported (default: 256 MiB).")
    var maxLineBytes: Int?

    @Flag(help: "Make a bad line end its shard instead of being counted and skipped.")
    var strict = false

    func validate() throws {
        for text in textField + promptField + (idField.map { [$0] } ?? []) {
            do { _ = try FieldPath(text) } catch { throw ValidationError(error.description) }
        }
    }

    /// `base` (the command's defaults) with these arguments applied.
    func options(over base: ReaderOptions = ReaderOptions()) -> ReaderOptions {
        var options = base
        if let format { options.use(format) }
        if !textField.isEmpty { options.textPaths = textField.compactMap { try? FieldPath($0) } }
        if !promptField.isEmpty { options.promptPaths = promptField.compactMap { try? FieldPath($0) } }
        if let idField, let id = try? FieldPath(idField) { options.idPath = id }
        if let maxLineBytes { options.maximumLineBytes = maxLineBytes }
        if strict { options.strict = true }
        return options
    }

    var options: ReaderOptions { options() }
}

/// `--pipeline` and `--threads`, shared by the commands that take a pipeline file as an option.
struct PipelineOptions: ParsableArguments {
    @Option(help: "Pipeline file (see pipelines/default.yaml).")
    var pipeline: String?

    @Option(help: "Worker threads (default: the pipeline's, else one per core).")
    var threads: Int?

    @OptionGroup var reader: ReaderArguments

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    /// The pipeline file's configuration (the defaults without one), with --threads applied.
    func load() throws -> PipelineConfiguration {
        var configuration = try loadPipeline(pipeline)
        if let threads { configuration.threads = threads }
        configuration.reader = reader.options(over: configuration.reader)
        return configuration
    }
}

/// Writes to standard error without buffering surprises.
enum FileHandleStream {
    struct Standard {
        let descriptor: Int32
        func write(_ text: String) {
            var text = text
            text.withUTF8 { bytes in
                var offset = 0
                while offset < bytes.count {
                    let n = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                    if n <= 0 { return }
                    offset += n
                }
            }
        }
    }
    static let standardError = Standard(descriptor: 2)
    static let standardOutput = Standard(descriptor: 1)
}

extension RecordFormat: ExpressibleByArgument {}
