import EchoScan
import Foundation

/// One fuzz input through the reader and the tokenizer: the field-path parser on the bytes as a
/// path, the JSON field extractor on the bytes as one line (with a plain and a chat selector),
/// then the whole shard reader (format detection, decompressors, line splitter, extractor, and the
/// Parquet reader for bytes that start with PAR1) on the bytes as a file, then the tokenizer (its C
/// loop over ASCII writes through pointers) on the bytes as text. Any crash, hang or unbounded
/// allocation is a bug; errors are fine. Real Parquet files in the seed corpus
/// (scripts/fuzz.sh adds them) let the fuzzer reach past the footer.
enum FuzzReader {
    static let path = NSTemporaryDirectory() + "echoscan-fuzz-\(getpid()).jsonl"

    static let selectors: [ReaderOptions] = {
        var chat = ReaderOptions()
        chat.use(.chat)
        chat.maximumLineBytes = 1 << 20
        var plain = ReaderOptions()
        plain.maximumLineBytes = 1 << 20
        return [plain, chat]
    }()

    static func run(_ bytes: UnsafeRawBufferPointer) {
        if let path = try? FieldPath(String(decoding: bytes, as: UTF8.self)) {
            precondition(!path.steps.isEmpty && !path.description.isEmpty)
        }
        for options in selectors {
            var output: [UInt8] = []
            var captures = RecordCaptures()
            try? JSONFieldExtractor(selector: RecordSelector(options: options)).extract(bytes, into: &output, captures: &captures)
            for capture in captures.items {
                if case .string(let range) = capture.value { precondition(range.upperBound <= output.count) }
                precondition(capture.indexRange.upperBound <= captures.indices.count)
            }
        }
        var tokens = TokenSequence()
        Tokenizer(seed: 1).tokenize(bytes.assumingMemoryBound(to: UInt8.self), into: &tokens)
        for index in 0..<tokens.count {
            precondition(tokens.starts[index] < tokens.ends[index] && Int(tokens.ends[index]) <= bytes.count)
            precondition(index == 0 || tokens.ends[index - 1] <= tokens.starts[index])
        }
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { return }
        for options in selectors {
            _ = ShardReader(path: path, options: options).read { batch in
                for document in batch.documents { precondition(document.textRange.upperBound <= batch.bytes.count) }
            }
        }
    }
}

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    FuzzReader.run(bytes)
    FuzzIndex.run(bytes)
    return 0
}
#else
/// Without the fuzzer: replays the files given as arguments (a crash reproducer or a corpus).
@main
struct Replay {
    static func main() {
        for path in CommandLine.arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            data.withUnsafeBytes {
                FuzzReader.run($0)
                FuzzIndex.run($0)
            }
        }
        print("replayed \(CommandLine.arguments.count - 1) inputs")
    }
}
#endif
