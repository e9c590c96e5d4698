import ArgumentParser
import EchoScan

struct Cat: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the documents of shards as JSONL (shard, line, offset, id, field, text), for debugging the reader.")

    @OptionGroup var reader: ReaderArguments

    @Argument(help: "Shard files, directories or globs.")
    var inputs: [String]

    func run() throws {
        let (paths, expandErrors) = ShardInputs.expand(inputs)
        var failed = !expandErrors.isEmpty
        expandErrors.forEach { log("\($0)") }
        let output = BufferedOutput(descriptor: 1)
        for (index, path) in paths.enumerated() {
            let result = ShardReader(path: path, shardIndex: index, options: reader.options).read { batch in
                for document in batch.documents {
                    var line = JSONWriter()
                    line.beginObject()
                    line.key("shard"); line.string(path)
                    line.key("line"); line.integer(document.line)
                    line.key("offset"); line.integer(document.offset)
                    line.key("id"); line.optionalString(document.id)
                    line.key("field"); line.optionalString(document.field)
                    line.key("text"); batch.withText(of: document) { line.string(utf8: $0) }
                    line.endObject()
                    output.write(line.bytes)
                    output.write([0x0A])
                }
            }
            for error in result.errors { log("\(error)") }
            failed = failed || !result.errors.isEmpty
        }
        output.flush()
        if failed { throw Status.partial }
    }
}

struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print per-shard documents, bytes, bad lines and errors.")

    @OptionGroup var reader: ReaderArguments

    @Flag(help: "Print one JSON object per shard instead of a table.")
    var json = false

    @Argument(help: "Shard files, directories or globs.")
    var inputs: [String]

    func run() throws {
        let (paths, expandErrors) = ShardInputs.expand(inputs)
        expandErrors.forEach { log("\($0)") }
        var failed = !expandErrors.isEmpty
        if !json {
            print(pad("shard", 48) + pad("format", 8) + pad("documents", 11) + pad("bad_lines", 11) + pad("bytes", 14) + "compressed")
        }
        var totals = (documents: 0, bad: 0, bytes: 0, compressed: 0)
        for (index, path) in paths.enumerated() {
            let result = ShardReader(path: path, shardIndex: index, options: reader.options).read { _ in }
            totals.documents += result.documents
            totals.bad += result.badLines
            totals.bytes += result.uncompressedBytes
            totals.compressed += result.compressedBytes
            if json {
                var line = JSONWriter()
                line.beginObject()
                line.key("shard"); line.string(path)
                line.key("format"); line.optionalString(result.format?.rawValue)
                line.key("documents"); line.integer(result.documents)
                line.key("lines"); line.integer(result.lines)
                line.key("bad_lines"); line.integer(result.badLines)
                line.key("bytes"); line.integer(result.uncompressedBytes)
                line.key("compressed_bytes"); line.integer(result.compressedBytes)
                line.key("errors"); line.beginArray()
                for error in result.errors { line.string(error.description) }
                line.endArray()
                line.endObject()
                print(String(decoding: line.bytes, as: UTF8.self))
            } else {
                print(pad(path, 48) + pad(result.format?.rawValue ?? "-", 8) + pad("\(result.documents)", 11)
                      + pad("\(result.badLines)", 11) + pad("\(result.uncompressedBytes)", 14) + "\(result.compressedBytes)")
            }
            for error in result.errors { log("\(error)") }
            failed = failed || !result.errors.isEmpty
        }
        if !json {
            print(pad("total (\(paths.count) shards)", 48) + pad("", 8) + pad("\(totals.documents)", 11)
                  + pad("\(totals.bad)", 11) + pad("\(totals.bytes)", 14) + "\(totals.compressed)")
        }
        if failed { throw Status.partial }
    }

    func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}
