import EchoScan
import Foundation
import XCTest
import EchoScanTestSupport

/// The Parquet reader against files written by pyarrow, DuckDB and polars: the same records as
/// JSON lines must give the same documents and the same manifest; bad files a clear error.
final class ParquetTests: XCTestCase {
    /// Chat records of the bundled references and human text, with the edge cases writers treat
    /// apart: nulls, empty strings and lists, a 10 MB answer, no id.
    static func records(includingHuge: Bool = true) throws -> [[String: Any]] {
        var texts: [String] = []
        for name in ["references/arena-hard__gpt-4-0314.jsonl", "references/fastchat__bard.jsonl", "background/human.jsonl"] {
            for line in try TestSupport.lines(TestSupport.samples + "/" + name).prefix(30) {
                if let text = (try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["text"] as? String { texts.append(text) }
            }
        }
        var records: [[String: Any]] = []
        for (number, text) in texts.enumerated() {
            var messages: [[String: Any]] = [["role": "user", "content": "Question \(number) — über?"], ["role": "assistant", "content": text]]
            if number % 4 == 0 { messages += [["role": "user", "content": "And?"], ["role": "assistant", "content": texts[(number + 7) % texts.count]]] }
            if number % 9 == 0 { messages.append(["role": "assistant", "content": NSNull()]) }
            if number % 11 == 0 { messages.append(["role": "assistant", "content": ""]) }
            // The other shapes in the same records: ShareGPT, Alpaca, a preference pair.
            let other = texts[(number + 3) % texts.count]
            records.append(["id": "r\(number)", "text": text, "messages": messages,
                            "conversations": [["from": "human", "value": "Q\(number)"], ["from": number % 2 == 0 ? "gpt" : "chatgpt", "value": text]],
                            "instruction": "Answer question \(number).", "input": number % 3 == 0 ? "" : "with care", "output": other,
                            "chosen": [["role": "user", "content": "Q\(number)"], ["role": "assistant", "content": text]],
                            "rejected": [["role": "user", "content": "Q\(number)"], ["role": "assistant", "content": other]]])
        }
        var huge = ""
        while huge.utf8.count < 10 << 20 { huge += texts[huge.utf8.count % texts.count] + "\n\n" }
        func record(_ id: Any, _ text: String, _ messages: [[String: Any]]) -> [String: Any] {
            ["id": id, "text": text, "messages": messages, "conversations": [[String: Any]](), "instruction": "", "input": "", "output": text,
             "chosen": messages, "rejected": [[String: Any]]()]
        }
        if includingHuge { records.append(record("huge", huge, [["role": "assistant", "content": huge]])) }
        records.append(record("empty-list", "", []))
        records.append(record(NSNull(), "no id here", [["role": "assistant", "content": "no id here"]]))
        return records
    }

    struct Read: Equatable, CustomStringConvertible {
        var line: Int
        var id: String?
        var field: String?
        var text: String
        var description: String { "\(line) \(id ?? "nil") \(field ?? "nil") \(text.prefix(40))" }
    }

    func read(_ path: String, format: RecordFormat) -> (ShardReadResult, [Read]) {
        var options = ReaderOptions()
        options.use(format)
        var documents: [Read] = []
        let result = ShardReader(path: path, options: options).read { batch in
            documents += batch.documents.map { Read(line: $0.line, id: $0.id, field: $0.field, text: batch.text(of: $0)) }
        }
        return (result, documents)
    }

    func testEveryWriterCodecAndEncodingGivesTheRecordsOfTheJSONL() throws {
        let dir = try TestSupport.temporaryDirectory()
        let (jsonl, files) = try TestSupport.parquetFiles(of: try Self.records(), in: dir)
        XCTAssertGreaterThanOrEqual(files.count, 25)
        for format in RecordFormat.allCases {
            let (jsonlResult, expected) = read(jsonl, format: format)
            XCTAssertEqual(jsonlResult.errors, [])
            XCTAssertGreaterThan(expected.count, 90, "\(format)")
            for file in files {
                let (result, documents) = read(file, format: format)
                let name = (file as NSString).lastPathComponent
                XCTAssertNil(result.fatalError, "\(name): \(result.fatalError?.description ?? "")")
                XCTAssertEqual(result.format, .parquet)
                XCTAssertEqual(documents.count, expected.count, name)
                if documents != expected {
                    let first = zip(documents, expected).first { $0.0 != $0.1 }
                    XCTFail("\(name) (\(format)): first difference \(first.map { "\($0.0) vs \($0.1)" } ?? "in length")")
                }
            }
        }
    }

    func testScanOfParquetGivesTheManifestAndAttributesOfTheJSONL() throws {
        let dir = try TestSupport.temporaryDirectory()
        // Without the 10 MB record, which a debug build takes long to match.
        let records = try Self.records(includingHuge: false)
        let (jsonl, files) = try TestSupport.parquetFiles(of: records, in: dir)
        let references = try FileManager.default.contentsOfDirectory(atPath: TestSupport.samples + "/references")
            .sorted().map { TestSupport.samples + "/references/" + $0 }
        _ = try IndexBuilder().build(references: references, background: [TestSupport.samples + "/background/human.jsonl"], output: dir + "/ref.idx")
        var configuration = try PipelineConfiguration.load(path: TestSupport.repositoryRoot.path + "/pipelines/default.yaml")
        configuration.reader.use(.chat)
        func scan(_ input: String, _ name: String) throws -> (manifest: [String], attributes: [String]) {
            let out = dir + "/" + name
            let summary = try TestSupport.scan([input], index: dir + "/ref.idx", output: out, configuration: configuration)
            XCTAssertEqual(summary.status, .ok, name)
            // The shard's name and the offset (a byte offset in JSONL, the row group in Parquet) differ.
            let manifest = try TestSupport.lines(out + "/manifest.jsonl").map {
                $0.replacingOccurrences(of: #""shard":"[^"]*","line":([0-9]+),"offset":[0-9]+"#, with: "$1", options: .regularExpression)
            }
            let attributes = try FileManager.default.contentsOfDirectory(atPath: out + "/attributes/echoscan")
            XCTAssertEqual(attributes.count, 1)
            XCTAssertTrue(attributes[0].hasSuffix(".jsonl"), attributes[0])
            return (manifest, try TestSupport.lines(out + "/attributes/echoscan/" + attributes[0]))
        }
        let expected = try scan(jsonl, "jsonl")
        XCTAssertGreaterThan(expected.manifest.count, 40)
        XCTAssertTrue(expected.manifest.contains { $0.contains(#""field":"messages[3].content""#) })
        XCTAssertEqual(expected.attributes.count, records.count, "one attribute line per record")
        for file in files where ["pyarrow-snappy-v1", "pyarrow-delta-v2", "duckdb-zstd", "polars-lz4"].contains(where: file.contains) {
            let got = try scan(file, (file as NSString).lastPathComponent)
            XCTAssertEqual(got.manifest, expected.manifest, file)
            XCTAssertEqual(got.attributes, expected.attributes, file)
        }
        // A file of many row groups, one scan task per row group (the smallest task size) and on
        // one thread: the same manifest and attribute lines.
        guard let grouped = files.first(where: { $0.hasSuffix("pyarrow-row-groups-of-3.parquet") }) else { return XCTFail("no row-group file") }
        configuration.reader.parquetTaskBytes = 1
        configuration.threads = 1
        let scanner = ContaminationScanner(request: ScanRequest(inputs: [grouped], indexPath: dir + "/ref.idx", outputDirectory: dir + "/units",
                                                                configuration: configuration))
        XCTAssertEqual(scanner.units.count, (records.count + 2) / 3)
        XCTAssertEqual(scanner.units.last?.rowGroups, (scanner.units.count - 1)..<scanner.units.count)
        let split = try scan(grouped, "units")
        XCTAssertEqual(split.manifest, expected.manifest)
        XCTAssertEqual(split.attributes, expected.attributes)
    }

    func testBadParquetIsReportedWithItsRowGroupAndColumnAndTheOtherShardsFinish() throws {
        let dir = try TestSupport.temporaryDirectory()
        let records: [[String: Any]] = (0..<40).map { ["id": "r\($0)", "text": "document number \($0) with a few words", "score": Double($0) + 0.5] }
        let (_, files) = try TestSupport.parquetFiles(of: records, in: dir, only: "pyarrow")
        guard let good = files.first(where: { $0.hasSuffix("pyarrow-none-v1.parquet") }) else { return XCTFail("no uncompressed file") }
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: good)))
        let footerLength = Int(bytes[bytes.count - 8]) | Int(bytes[bytes.count - 7]) << 8 | Int(bytes[bytes.count - 6]) << 16
        func variant(_ name: String, _ body: (inout [UInt8]) -> Void) throws -> String {
            var copy = bytes
            body(&copy)
            let path = dir + "/" + name
            try TestSupport.write(copy, to: path)
            return path
        }
        let cases: [(String, ShardError.Kind, String)] = [
            (try variant("wrong-magic.parquet") { $0.replaceSubrange(0..<4, with: Array("PAR2".utf8)) }, .formatMismatch, "not a parquet header"),
            (try variant("truncated.parquet") { $0.removeLast(100) }, .truncatedStream, "does not end with PAR1"),
            (try variant("corrupt-footer.parquet") { bytes in
                let start = bytes.count - 8 - footerLength
                for index in start..<(start + footerLength / 2) { bytes[index] = 0xFF }
            }, .corruptStream, "corrupt footer"),
            // The first column chunk (id) starts right after the magic: its page header is garbage.
            (try variant("corrupt-page.parquet") { bytes in for index in 4..<40 { bytes[index] = 0xEE } }, .corruptStream, "row group 0, column id"),
        ]
        // A codec error: zstd pages whose compressed bytes are damaged.
        guard let zstd = files.first(where: { $0.hasSuffix("pyarrow-zstd-v1.parquet") }) else { return XCTFail("no zstd file") }
        var damaged = [UInt8](try Data(contentsOf: URL(fileURLWithPath: zstd)))
        let frame = [UInt8]([0x28, 0xB5, 0x2F, 0xFD])
        var frames = 0
        let footer = Int(damaged[damaged.count - 8]) | Int(damaged[damaged.count - 7]) << 8 | Int(damaged[damaged.count - 6]) << 16
        for start in 4..<(damaged.count - 8 - footer - 32) where Array(damaged[start..<(start + 4)]) == frame {
            for index in (start + 5)..<(start + 9) { damaged[index] ^= 0x5A }
            frames += 1
        }
        XCTAssertGreaterThan(frames, 0)
        let codecCase = dir + "/codec-error.parquet"
        try TestSupport.write(damaged, to: codecCase)
        let codecError = ShardReader(path: codecCase).read { _ in }.fatalError
        XCTAssertEqual(codecError?.kind, .corruptStream)
        XCTAssertTrue(codecError?.description.contains("zstd: ") ?? false, codecError?.description ?? "no error")
        XCTAssertTrue(codecError?.description.contains("row group 0, column") ?? false, codecError?.description ?? "no error")
        for (path, kind, reason) in cases {
            let result = ShardReader(path: path).read { _ in }
            XCTAssertEqual(result.fatalError?.kind, kind, path)
            XCTAssertTrue(result.fatalError?.description.contains(reason) ?? false, "\(path): \(result.fatalError?.description ?? "no error")")
            XCTAssertTrue(result.fatalError?.description.hasPrefix(path) ?? false)
        }
        var missing = ReaderOptions()
        missing.textPaths = [try FieldPath("body")]
        XCTAssertEqual(ShardReader(path: good, options: missing).read { _ in }.fatalError?.kind, .missingField)
        var number = ReaderOptions()
        number.textPaths = [try FieldPath("score")]
        let notString = ShardReader(path: good, options: number).read { _ in }
        XCTAssertEqual(notString.fatalError?.kind, .wrongFieldType)
        XCTAssertTrue(notString.fatalError?.description.contains("score holds double values") ?? false, notString.fatalError?.description ?? "")

        // One bad shard among good ones: the scan is partial (exit 3) and the good ones are all there.
        let corpus = dir + "/corpus"
        try FileManager.default.createDirectory(atPath: corpus, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: good, toPath: corpus + "/a.parquet")
        try FileManager.default.copyItem(atPath: cases[3].0, toPath: corpus + "/b.parquet")
        try FileManager.default.copyItem(atPath: TestSupport.samples + "/corpus/shard-003.jsonl", toPath: corpus + "/c.jsonl")
        let indexPath = dir + "/ref.idx"
        _ = try IndexBuilder().build(references: [TestSupport.samples + "/references/fastchat__bard.jsonl"], output: indexPath)
        let run = try TestSupport.run(["scan", "--index", indexPath, "--output", dir + "/out", corpus])
        XCTAssertEqual(run.status, 3, run.error)
        XCTAssertTrue(run.error.contains("b.parquet: corrupt_stream: row group 0, column id"), run.error)
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/out/summary.json"))) as? [String: Any]
        let shards = summary?["shards"] as? [[String: Any]] ?? []
        XCTAssertEqual(shards.map { $0["status"] as? String }, ["ok", "failed", "ok"])
        XCTAssertEqual((shards.first?["counts"] as? [String: Any])?["documents"] as? Int, 40)
    }

    func testInvalidUTF8InAStringColumnSkipsItsRowOnly() throws {
        let dir = try TestSupport.temporaryDirectory()
        let path = dir + "/binary.parquet"
        let script = """
            import pyarrow as pa, pyarrow.parquet as pq
            pq.write_table(pa.table({"id": ["a", "b", "c"], "text": pa.array([b"fine", b"bad \\xff byte", b"also fine"], pa.binary())}), "\(path)")
            """
        let written = try TestSupport.run(["-c", script], executable: try TestSupport.python())
        XCTAssertEqual(written.status, 0, written.error)
        var texts: [String] = []
        let result = ShardReader(path: path).read { batch in texts += batch.documents.map { batch.text(of: $0) } }
        XCTAssertEqual(texts, ["fine", "also fine"])
        XCTAssertEqual(result.errors.map(\.kind), [.invalidUTF8])
        XCTAssertEqual(result.errors.first?.line, 2)
        XCTAssertTrue(result.errors.first?.description.contains("row group 0, column text") ?? false)
    }
}
