#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import EchoScan

/// Options shared by every command that reads shards.
struct ReaderArguments: ParsableArguments {
    @Option(help: "JSON field holding the document text.")
    var textField = "text"

    @Option(help: "JSON field holding the document id.")
    var idField = "id"

    @Option(help: "Longest line accepted, in bytes; longer lines are skipped and reported.")
    var maxLineBytes = 256 << 20

    @Flag(help: "Make a bad line end its shard instead of being counted and skipped.")
    var strict = false

    var options: ReaderOptions {
        var options = ReaderOptions()
        options.textField = textField
        options.idField = idField
        options.maximumLineBytes = maxLineBytes
        options.strict = strict
        return options
    }
}

/// `--pipeline` and `--threads`, shared by the commands that take a pipeline file as an option.
struct PipelineOptions: ParsableArguments {
    @Option(help: "Pipeline file (see pipelines/default.yaml).")
    var pipeline: String?

    @Option(help: "Worker threads (default: the pipeline's, else one per core).")
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    /// The pipeline file's configuration (the defaults without one), with --threads applied.
    func load() throws -> PipelineConfiguration {
        var configuration = try loadPipeline(pipeline)
        if let threads { configuration.threads = threads }
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
