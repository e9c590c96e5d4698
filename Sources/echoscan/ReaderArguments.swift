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
