import EchoScan
import Foundation
import XCTest
import EchoScanTestSupport

/// Field paths and record formats on JSON lines: chat, ShareGPT, Alpaca and preference records,
/// and references from chat logs.
final class ChatFormatTests: XCTestCase {
    /// Every document of a shard as (line, id, field, text, prompt).
    struct Read: Equatable {
        var line: Int
        var id: String?
        var field: String?
        var text: String
        var prompt: String?
    }

    static func read(_ path: String, options: ReaderOptions) -> (ShardReadResult, [Read]) {
        var documents: [Read] = []
        let result = ShardReader(path: path, options: options).read { batch in
            documents += batch.documents.map { Read(line: $0.line, id: $0.id, field: $0.field, text: batch.text(of: $0), prompt: $0.prompt) }
        }
        return (result, documents)
    }

    static func options(_ format: RecordFormat) -> ReaderOptions {
        var options = ReaderOptions()
        options.use(format)
        return options
    }

    func testFieldPathsParseAndRefuseMalformedOnes() throws {
        let path = try FieldPath("conversations[from=gpt|chatgpt].value")
        XCTAssertEqual(path.steps, [.key("conversations"), .elements(.init(key: "from", values: ["gpt", "chatgpt"])), .key("value")])
        XCTAssertEqual(path.description, "conversations[from=gpt|chatgpt].value")
        XCTAssertEqual(try FieldPath("messages[*].content").steps, [.key("messages"), .elements(nil), .key("content")])
        XCTAssertEqual(try FieldPath("meta.model").steps, [.key("meta"), .key("model")])
        XCTAssertTrue(try FieldPath("text").isScalar)
        XCTAssertFalse(try FieldPath("a[*]").isScalar)
        for bad in ["", ".text", "text.", "a[", "a]", "[*].b", "a[*]b", "a[=x]", "a[k=]", "a[k=x|]", "a..b"] {
            XCTAssertThrowsError(try FieldPath(bad), "\"\(bad)\" should be refused")
        }
    }

    func testChatShapesGiveOneDocumentPerSelectedTurnWithItsPrompt() throws {
        let dir = try TestSupport.temporaryDirectory()
        let lines = [
            // role after content, a system turn, two assistant turns, an escaped key
            #"{"id": "c1", "messages": [{"role": "system", "content": "Be brief."}, {"content": "What is 2+2?", "role": "user"}, {"content": "It is 4.", "role": "assistant"}, {"role": "user", "content": "And 3+3?"}, {"role": "assistant", "cont\u0065nt": "6 \u00e9"}]}"#,
            // no assistant turn: one empty document, so that attribute files keep one line per record
            #"{"id": "c2", "messages": [{"role": "user", "content": "hello"}]}"#,
            #"{"id": "c3", "messages": []}"#,
            // no messages at all: a missing field
            #"{"id": "c4", "text": "plain"}"#,
            // a turn whose content is not a string is skipped; a role that is not a string fails the filter
            #"{"id": 5, "messages": [{"role": "assistant", "content": null}, {"role": 7, "content": "x"}, {"role": "assistant", "content": "kept"}]}"#,
        ]
        let path = dir + "/chat.jsonl"
        try TestSupport.write([UInt8](lines.joined(separator: "\n").utf8), to: path)
        let (result, documents) = Self.read(path, options: Self.options(.chat))
        XCTAssertEqual(documents, [
            Read(line: 1, id: "c1", field: "messages[2].content", text: "It is 4.", prompt: "What is 2+2?"),
            Read(line: 1, id: "c1", field: "messages[4].content", text: "6 é", prompt: "And 3+3?"),
            Read(line: 2, id: "c2", field: nil, text: "", prompt: nil),
            Read(line: 3, id: "c3", field: nil, text: "", prompt: nil),
            Read(line: 5, id: "5", field: "messages[2].content", text: "kept", prompt: nil),
        ])
        XCTAssertEqual(result.errors.map(\.kind), [.missingField])
        XCTAssertEqual(result.errors.first?.line, 4)
        XCTAssertTrue(result.errors.first?.description.contains("messages[role=assistant].content") ?? false)
    }

    func testShareGPTAlpacaAndPreferenceRecords() throws {
        let dir = try TestSupport.temporaryDirectory()
        func documents(_ format: RecordFormat, _ line: String) throws -> [Read] {
            let path = dir + "/\(format).jsonl"
            try TestSupport.write([UInt8](line.utf8), to: path)
            let (result, documents) = Self.read(path, options: Self.options(format))
            XCTAssertEqual(result.errors, [], "\(format)")
            return documents
        }
        XCTAssertEqual(try documents(.sharegpt, #"{"id": "s", "conversations": [{"from": "human", "value": "Hi?"}, {"from": "gpt", "value": "Hello!"}, {"from": "human", "value": "More"}, {"from": "chatgpt", "value": "Sure."}]}"#), [
            Read(line: 1, id: "s", field: "conversations[1].value", text: "Hello!", prompt: "Hi?"),
            Read(line: 1, id: "s", field: "conversations[3].value", text: "Sure.", prompt: "More"),
        ])
        XCTAssertEqual(try documents(.alpaca, #"{"instruction": "Translate", "input": "chat", "output": "cat", "id": "a"}"#), [
            Read(line: 1, id: "a", field: "output", text: "cat", prompt: "Translate\nchat"),
        ])
        XCTAssertEqual(try documents(.preference, #"{"id": "p", "rejected": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "bad"}], "chosen": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "good"}]}"#), [
            Read(line: 1, id: "p", field: "rejected[1].content", text: "bad", prompt: "Q"),
            Read(line: 1, id: "p", field: "chosen[1].content", text: "good", prompt: "Q"),
        ])
        // A path of the user's own: nested objects, arrays in arrays.
        var options = ReaderOptions()
        options.textPaths = [try FieldPath("data.turns[*][kind=answer].text")]
        options.idPath = try FieldPath("meta.id")
        let path = dir + "/nested.jsonl"
        try TestSupport.write([UInt8](#"{"meta": {"id": "n"}, "data": {"turns": [[{"kind": "answer", "text": "a"}], [{"kind": "q", "text": "b"}, {"text": "c", "kind": "answer"}]]}}"#.utf8), to: path)
        XCTAssertEqual(Self.read(path, options: options).1, [
            Read(line: 1, id: "n", field: "data.turns[0][0].text", text: "a", prompt: nil),
            Read(line: 1, id: "n", field: "data.turns[1][1].text", text: "c", prompt: nil),
        ])
    }

    func testByteOrderMarkIsSkipped() throws {
        let dir = try TestSupport.temporaryDirectory()
        let path = dir + "/bom.jsonl"
        try TestSupport.write([0xEF, 0xBB, 0xBF] + [UInt8](#"{"id": "1", "text": "first"}"# + "\n" + #"{"id": "2", "text": "second"}"#), to: path)
        let (result, documents) = Self.read(path, options: ReaderOptions())
        XCTAssertEqual(result.errors, [])
        XCTAssertEqual(documents.map(\.text), ["first", "second"])
    }

    func testEmbeddedMarkerListIsThePipelinesFile() throws {
        let file = try MarkerList.load(path: TestSupport.repositoryRoot.path + "/pipelines/markers/markers-v1.yaml").markers
        XCTAssertEqual(try PipelineConfiguration().loadMarkers(), file, "run scripts/embed-defaults.sh")
        XCTAssertGreaterThan(file.count, 20)
    }

    func testEmbeddedVendorTableIsThePipelinesFile() throws {
        let file = try String(contentsOfFile: TestSupport.repositoryRoot.path + "/pipelines/vendors/vendors-v1.yaml", encoding: .utf8)
        XCTAssertEqual(try VendorTable(yaml: file), VendorTable.standard, "run scripts/embed-defaults.sh")
        let table = VendorTable.standard
        let expected = ["gpt-4-0314": "openai", "o1-preview": "openai", "text-davinci-003": "openai", "claude-3-opus-20240229": "anthropic",
                        "gemini-1.5-pro": "google", "PaLM-2": "google", "bard:20230327": "google", "mixtral-8x7b": "mistral",
                        "command-r-plus": "cohere", "deepseek-v3": "deepseek", "llama-3-70b-instruct": "meta", "qwen2-72b": "alibaba",
                        "grok-2": "xai", "my-own-model": "unknown"]
        for (model, vendor) in expected { XCTAssertEqual(table.vendor(ofModel: model), vendor, model) }
        XCTAssertEqual(table.extended(with: [.init(vendor: "acme", patterns: ["my-*"])]).vendor(ofModel: "my-own-model"), "acme")
    }

    /// A chat log in the shape public ones have (a model per conversation, several assistant
    /// turns each): every assistant turn is a reference with its record's model and the vendor the
    /// table names, known as `<id>#<turn>`.
    func testReferencesFromAChatLogIndexWithTheirModelAndVendor() throws {
        let dir = try TestSupport.temporaryDirectory()
        var answers: [String] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: TestSupport.samples + "/references").sorted() {
            for line in try TestSupport.lines(TestSupport.samples + "/references/" + name) {
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                if let text = object?["text"] as? String { answers.append(text) }
            }
        }
        let models = ["gpt-4-0314": "openai", "claude-2.1": "anthropic", "gemini-pro": "google", "mistral-large": "mistral",
                      "command-r": "cohere", "deepseek-chat": "deepseek", "llama-2-70b-chat": "meta", "qwen-72b": "alibaba",
                      "grok-1": "xai", "house-model-7b": "unknown"]
        let names = models.keys.sorted()
        var expected: [String: (String, String)] = [:]
        var lines: [String] = []
        var next = 0
        for conversation in 0..<150 {
            let model = names[conversation % names.count]
            var messages: [[String: String]] = []
            for _ in 0..<(1 + conversation % 3) where next < answers.count {
                messages.append(["role": "user", "content": "Question \(next)?"])
                expected["log-\(conversation)#\(messages.count)"] = (model, models[model] ?? "")
                messages.append(["role": "assistant", "content": answers[next]])
                next += 1
            }
            let record: [String: Any] = ["conversation_id": "log-\(conversation)", "model": model, "messages": messages]
            lines.append(String(decoding: try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys]), as: UTF8.self))
        }
        let log = dir + "/chat-log.jsonl"
        try TestSupport.write([UInt8](lines.joined(separator: "\n").utf8), to: log)
        var options = IndexBuildOptions()
        options.reader.use(.chat)
        options.reader.idPath = try FieldPath("conversation_id")
        options.threads = 2
        _ = try IndexBuilder(options: options).build(references: [log], output: dir + "/chat.idx")
        let index = try ReferenceIndex(path: dir + "/chat.idx")
        XCTAssertEqual(index.referenceCount, expected.count)
        for number in 0..<index.referenceCount {
            let reference = index.reference(number)
            guard let (model, vendor) = expected[reference.id] else { return XCTFail("unexpected reference id \(reference.id)") }
            XCTAssertEqual(reference.model, model, reference.id)
            XCTAssertEqual(reference.vendor, vendor, reference.id)
        }
    }
}
