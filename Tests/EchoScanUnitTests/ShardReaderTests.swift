import EchoScan
import Foundation
import XCTest
import EchoScanTestSupport

/// The reader on real bytes made by the real compressors, good and bad.
final class ShardReaderTests: XCTestCase {
    /// Three lines of real reference data (first lines of the bundled GSM8K sample).
    var sampleLines: [String] = []
    var sample: [UInt8] { [UInt8](sampleLines.joined(separator: "\n") + "\n") }

    override func setUpWithError() throws {
        let lines = try TestSupport.lines(TestSupport.samples + "/references/gsm8k__175b_finetuning.jsonl")
        sampleLines = Array(lines.prefix(3))
    }

    func read(_ path: String, options: ReaderOptions = ReaderOptions()) -> (ShardReadResult, [DocumentRecord], [String]) {
        var documents: [DocumentRecord] = []
        var texts: [String] = []
        let result = ShardReader(path: path, options: options).read { batch in
            documents += batch.documents
            texts += batch.documents.map { batch.text(of: $0) }
        }
        return (result, documents, texts)
    }

    func expectedTexts() throws -> [String] {
        try sampleLines.map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return try XCTUnwrap(object?["text"] as? String)
        }
    }

    func testEveryFormatDecodesTheSameDocuments() throws {
        let dir = try TestSupport.temporaryDirectory()
        let half = sample.count / 2
        let files: [(String, [UInt8], ShardFormat)] = [
            ("plain.jsonl", sample, .plain),
            // Two frames with a skippable frame between them.
            ("multi.jsonl.zst", TestSupport.zstd(Array(sample[..<half])) + TestSupport.zstdSkippableFrame([1, 2, 3])
                + TestSupport.zstd(Array(sample[half...])), .zstd),
            ("multi.jsonl.lz4", TestSupport.lz4Frame(Array(sample[..<half])) + TestSupport.lz4Frame(Array(sample[half...])), .lz4),
            ("members.jsonl.gz", TestSupport.gzip(Array(sample[..<half])) + TestSupport.gzip(Array(sample[half...])), .gzip),
            // Detected by magic bytes, whatever the name says.
            ("misnamed.jsonl", TestSupport.zstd(sample), .zstd),
        ]
        for (name, bytes, format) in files {
            let path = dir + "/" + name
            try TestSupport.write(bytes, to: path)
            let (result, documents, texts) = read(path)
            XCTAssertNil(result.fatalError, name)
            XCTAssertEqual(result.format, format, name)
            XCTAssertEqual(texts, try expectedTexts(), name)
            XCTAssertEqual(documents.map(\.line), [1, 2, 3], name)
            XCTAssertEqual(documents[1].offset, sampleLines[0].utf8.count + 1, name)
            XCTAssertEqual(documents[0].id, "gsm8k-test/175b_finetuning/0000", name)
            XCTAssertEqual(result.uncompressedBytes, sample.count, name)
        }
    }

    func testTruncatedStreamsAreReportedWithTheShard() throws {
        let dir = try TestSupport.temporaryDirectory()
        let cases: [(String, [UInt8])] = [
            ("cut.jsonl.zst", TestSupport.zstd(sample)),
            ("cut.jsonl.lz4", TestSupport.lz4Frame(sample)),
            ("cut.jsonl.gz", TestSupport.gzip(sample)),
        ]
        for (name, compressed) in cases {
            let path = dir + "/" + name
            try TestSupport.write(Array(compressed.prefix(compressed.count * 2 / 3)), to: path)
            let (result, _, _) = read(path)
            let error = try XCTUnwrap(result.fatalError, name)
            XCTAssertEqual(error.kind, .truncatedStream, name)
            XCTAssertEqual(error.shard, path)
            XCTAssertTrue(error.description.contains(path), error.description)
        }
    }

    func testCorruptFrameInTheMiddleIsReported() throws {
        let dir = try TestSupport.temporaryDirectory()
        let first = TestSupport.zstd(sample)
        var second = TestSupport.zstd(sample)
        for index in 8..<min(second.count, 40) { second[index] ^= 0x5A }
        let path = dir + "/corrupt.jsonl.zst"
        try TestSupport.write(first + second + TestSupport.zstd(sample), to: path)
        let (result, documents, _) = read(path)
        XCTAssertEqual(result.fatalError?.kind, .corruptStream)
        XCTAssertEqual(documents.count, 3, "the documents before the damage are kept")

        var gz = TestSupport.gzip(sample)
        for index in 20..<40 { gz[index] ^= 0xFF }
        try TestSupport.write(gz, to: dir + "/corrupt.jsonl.gz")
        XCTAssertEqual(read(dir + "/corrupt.jsonl.gz").0.fatalError?.kind, .corruptStream)
    }

    func testPlainFileNamedZstIsRefused() throws {
        let path = try TestSupport.temporaryDirectory() + "/plain.jsonl.zst"
        try TestSupport.write(sample, to: path)
        let error = try XCTUnwrap(read(path).0.fatalError)
        XCTAssertEqual(error.kind, .formatMismatch)
        XCTAssertTrue(error.reason.contains("7b"), error.reason)
    }

    func testEmptyAndMissingFiles() throws {
        let dir = try TestSupport.temporaryDirectory()
        try TestSupport.write([], to: dir + "/empty.jsonl")
        XCTAssertEqual(read(dir + "/empty.jsonl").0.fatalError?.kind, .emptyFile)
        XCTAssertEqual(read(dir + "/absent.jsonl").0.fatalError?.kind, .missingFile)
        XCTAssertEqual(read(dir).0.fatalError?.kind, .unreadable)
    }

    func testBadLinesAreCountedSkippedAndNamed() throws {
        let path = try TestSupport.temporaryDirectory() + "/bad.jsonl"
        let lines: [[UInt8]] = [
            [UInt8](sampleLines[0]),
            [UInt8]("{\"text\": \"unterminated"),            // 2 invalid JSON
            [UInt8]("{\"id\": \"x\"}"),                     // 3 no text
            [UInt8]("{\"text\": 42}"),                      // 4 text not a string
            [UInt8]("{\"text\": \"bad ") + [0xC3, 0x28] + [UInt8]("\"}"),  // 5 invalid UTF-8
            [UInt8]("{\"text\": \"nul ") + [0x00] + [UInt8]("\"}"),        // 6 NUL byte
            [UInt8]("{\"text\": \"ok\"} trailing"),         // 7 garbage after the object
            [UInt8](sampleLines[1]),
        ]
        try TestSupport.write(lines.joined(separator: [0x0A]).map { $0 } + [0x0A], to: path)
        let (result, documents, _) = read(path)
        XCTAssertNil(result.fatalError)
        XCTAssertEqual(documents.map(\.line), [1, 8])
        XCTAssertEqual(result.badLines, 6)
        XCTAssertEqual(result.errors.map(\.line), [2, 3, 4, 5, 6, 7])
        XCTAssertEqual(result.errors.map(\.kind), [.invalidJSON, .missingField, .wrongFieldType, .invalidUTF8, .invalidJSON, .invalidJSON])
        XCTAssertTrue(result.errors[0].description.hasPrefix("\(path):2: invalid_json"), result.errors[0].description)

        var strict = ReaderOptions()
        strict.strict = true
        let (strictResult, strictDocuments, _) = read(path, options: strict)
        XCTAssertEqual(strictResult.fatalError?.line, 2)
        XCTAssertEqual(strictDocuments.count, 1)
    }

    func testCRLFAndMissingFinalNewline() throws {
        let path = try TestSupport.temporaryDirectory() + "/crlf.jsonl"
        try TestSupport.write([UInt8](sampleLines.joined(separator: "\r\n")), to: path)
        let (result, documents, texts) = read(path)
        XCTAssertEqual(result.badLines, 0)
        XCTAssertEqual(documents.count, 3)
        XCTAssertEqual(texts, try expectedTexts())
    }

    func testSixtyFourMegabyteLineIsReadAndALongerLimitIsEnforced() throws {
        let path = try TestSupport.temporaryDirectory() + "/giant.jsonl.zst"
        let word = try expectedTexts()[0].replacingOccurrences(of: "\n", with: " ") + " "
        let repeats = (64 << 20) / word.utf8.count + 1
        let giant = String(repeating: word, count: repeats)
        let shard = [UInt8]("{\"id\":\"giant\",\"text\":\"\(giant)\"}\n") + [UInt8](sampleLines[0] + "\n")
        try TestSupport.write(TestSupport.zstd(shard, level: 1), to: path)
        let (result, documents, _) = read(path)
        XCTAssertNil(result.fatalError)
        XCTAssertEqual(documents.count, 2)
        XCTAssertEqual(documents[0].textRange.count, giant.utf8.count)

        var limited = ReaderOptions()
        limited.maximumLineBytes = 1 << 20
        let (limitedResult, limitedDocuments, _) = read(path, options: limited)
        XCTAssertEqual(limitedDocuments.map(\.line), [2])
        XCTAssertEqual(limitedResult.errors.first?.kind, .lineTooLong)
        XCTAssertEqual(limitedResult.errors.first?.line, 1)
    }

    func testJSONEscapesAndSurrogatePairs() throws {
        let extractor = Self.extractor(keys: ["text", "id"])
        let line = [UInt8](#"{"meta": {"a": [1, 2.5e3, true, null]}, "text": "q\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00\ud800x", "id": 17}"#)
        var output: [UInt8] = []
        var values: [JSONFieldExtractor.Value] = []
        try line.withUnsafeBytes { values = try Self.values(extractor, $0, into: &output) }
        guard case .string(let text) = values[0], case .number(let id) = values[1] else { return XCTFail("\(values)") }
        XCTAssertEqual(String(decoding: output[text], as: UTF8.self), "q\"\\/\u{8}\u{c}\n\r\té😀\u{FFFD}x")
        XCTAssertEqual(String(decoding: output[id], as: UTF8.self), "17")

        // Keys are matched after unescaping; a key that only looks like a wanted one is not it.
        let escapedKeys = [UInt8](#"{"t\u0065xt\"": "no", "i\/d": "no", "te\u0078t": "yes, a text longer than sixteen bytes", "\u0069d": "k"}"#)
        try escapedKeys.withUnsafeBytes { values = try Self.values(extractor, $0, into: &output) }
        guard case .string(let keyed) = values[0], case .string(let keyedID) = values[1] else { return XCTFail("\(values)") }
        XCTAssertEqual(String(decoding: output[keyed], as: UTF8.self), "yes, a text longer than sixteen bytes")
        XCTAssertEqual(String(decoding: output[keyedID], as: UTF8.self), "k")
    }

    /// Short values before a long text on a line of more than 64 KiB: each is measured before it
    /// is copied, and the copy stays inside the room it took (an AddressSanitizer run caught
    /// 16-byte copies past a short value's room).
    func testShortValuesBeforeALongText() throws {
        let extractor = Self.extractor(keys: ["text", "id", "k\\"])
        let text = String(repeating: "long text with a \\\"quote\\\" ", count: 4_000)
        let line = [UInt8]("{\"id\": \"short id\", \"k\\\\\": \"v\", \"text\": \"\(text)\"}".utf8)
        XCTAssertGreaterThan(line.count, 1 << 16)
        var output: [UInt8] = []
        var values: [JSONFieldExtractor.Value] = []
        try line.withUnsafeBytes { values = try Self.values(extractor, $0, into: &output) }
        guard case .string(let long) = values[0], case .string(let id) = values[1], case .string(let escapedKey) = values[2]
        else { return XCTFail("\(values)") }
        XCTAssertEqual(String(decoding: output[id], as: UTF8.self), "short id")
        XCTAssertEqual(String(decoding: output[escapedKey], as: UTF8.self), "v")
        XCTAssertEqual(String(decoding: output[long], as: UTF8.self), String(repeating: "long text with a \"quote\" ", count: 4_000))
    }

    /// A selector of top-level keys: the first is the text, the second the id, the rest extras.
    static func extractor(keys: [String]) -> JSONFieldExtractor {
        JSONFieldExtractor(selector: RecordSelector(texts: [FieldPath(key: keys[0])], id: FieldPath(key: keys[1]),
                                                    extras: keys.dropFirst(2).map { FieldPath(key: $0) }))
    }

    /// What each of the selector's fields held, texts first.
    static func values(_ extractor: JSONFieldExtractor, _ line: UnsafeRawBufferPointer, into output: inout [UInt8]) throws -> [JSONFieldExtractor.Value] {
        var captures = RecordCaptures()
        try extractor.extract(line, into: &output, captures: &captures)
        return extractor.selector.fields.indices.map { captures.first($0) }
    }
}
