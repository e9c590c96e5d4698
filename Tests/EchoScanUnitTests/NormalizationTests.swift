@testable import EchoScan
import Foundation
import XCTest
import EchoScanTestSupport

/// The tokens of a text do not change when it is re-published: lines joined or re-wrapped with
/// hyphens, markdown turned into HTML, quotes and dashes curled, lists renumbered, invisible
/// characters or look-alike letters put in. Each property is checked on real reference texts with
/// variants drawn at random (seeded), as scripts/make_corpus.py draws its transforms.
final class NormalizationTests: XCTestCase {
    let fingerprinter = Fingerprinter(parameters: FingerprintParameters())

    func tokens(_ text: String) -> [UInt64] { fingerprinter.fingerprint(of: text).tokens.hashes }

    func referenceTexts() throws -> [String] {
        let files = ["arena-hard__gpt-4-0314.jsonl", "fastchat__bard.jsonl", "gsm8k__175b_finetuning.jsonl"]
        return try files.flatMap { file in
            try TestSupport.lines(TestSupport.samples + "/references/" + file).prefix(25).map { line in
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                return try XCTUnwrap(object?["text"] as? String)
            }
        }
    }

    /// Checks `variant(text, generator)` against `text` for every sample text and three draws.
    func assertInvariant(_ name: String, _ variant: (String, inout SplitMix64) -> String) throws {
        var generator = SplitMix64(seed: 20261201)
        var checked = 0
        for text in try referenceTexts() {
            let expected = tokens(text)
            for _ in 0..<3 {
                let changed = variant(text, &generator)
                let found = fingerprinter.fingerprint(of: changed).tokens
                if found.hashes != expected {
                    // Where the two first differ, as text: what the failure is about.
                    let at = zip(found.hashes, expected).prefix { $0 == $1 }.count
                    let bytes = Array(changed.utf8)
                    let start = at < found.count ? Int(found.starts[at]) : bytes.count
                    let context = String(decoding: bytes[max(0, start - 80)..<min(bytes.count, start + 40)], as: UTF8.self)
                    XCTFail("\(name): tokens differ from token \(at) on, at «\(context)»")
                }
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 100)
    }

    func testJoiningLines() throws {
        try assertInvariant("joined") { text, _ in
            text.replacingOccurrences(of: "\n", with: " ")
        }
    }

    func testRewrappingWithHyphens() throws {
        try assertInvariant("re-wrapped") { text, generator in
            let width = Int.random(in: 20...80, using: &generator)
            var lines: [String] = []
            var line = ""
            for word in text.split(whereSeparator: \.isWhitespace).map(String.init) {
                if line.count + word.count + 1 <= width {
                    line = line.isEmpty ? word : line + " " + word
                } else if word.count >= 6, word.allSatisfy({ $0.isASCII && $0.isLowercase }) {
                    let cut = Int.random(in: 2...(word.count - 3), using: &generator)
                    lines.append((line.isEmpty ? "" : line + " ") + word.prefix(cut) + "-")
                    line = String(word.dropFirst(cut))
                } else {
                    lines.append(line)
                    line = word
                }
            }
            return (lines + [line]).joined(separator: "\n")
        }
    }

    /// Markdown as HTML: paragraphs, emphasis as tags, "&" and quotes as entities. (Not "<" as
    /// "&lt;": a literal "<name>" in the markdown reads as a tag, its escaped form as a word.)
    func testMarkdownAsHTMLWithEntities() throws {
        try assertInvariant("html") { text, generator in
            var html = text.replacingOccurrences(of: "&", with: "&amp;")
            if Bool.random(using: &generator) {
                html = html.replacingOccurrences(of: "\"", with: "&quot;").replacingOccurrences(of: "'", with: "&#39;")
            }
            let bold = Bool.random(using: &generator) ? ("<strong>", "</strong>") : ("<b>", "</b>")
            html = html.replacing(/\*\*([A-Za-z][^*\n]*)\*\*/) { bold.0 + $0.1 + bold.1 }
            return html.components(separatedBy: "\n\n").map { "<p>" + $0 + "</p>" }.joined(separator: "\n")
        }
    }

    func testSmartQuotesDashesAndListNumbering() throws {
        let styles = ["%d)", "(%d)", "%d."]
        try assertInvariant("typography") { text, generator in
            let style = styles[Int.random(in: 0..<styles.count, using: &generator)]
            let lines = text.components(separatedBy: "\n").map { line -> String in
                guard let match = line.firstMatch(of: /^(\s*)(\d{1,2})[.)]\s+/) else { return line }
                return String(match.1) + String(format: style, Int(match.2) ?? 0) + " " + line[match.range.upperBound...]
            }
            return lines.joined(separator: "\n").replacingOccurrences(of: "'", with: "\u{2019}")
                .replacingOccurrences(of: " - ", with: " \u{2014} ").replacingOccurrences(of: "\"", with: "\u{201C}")
        }
    }

    func testInvisibleCharacters() throws {
        let invisible: [Character] = ["\u{200B}", "\u{200C}", "\u{200D}", "\u{2060}", "\u{FEFF}", "\u{00AD}"]
        try assertInvariant("invisible") { text, generator in
            var out = ""
            var previous: Character = " "
            for character in text {
                if previous.isLetter && character.isLetter && Int.random(in: 0..<8, using: &generator) == 0 {
                    out.append(invisible[Int.random(in: 0..<invisible.count, using: &generator)])
                }
                out.append(character)
                previous = character
            }
            return out
        }
    }

    func testCyrillicAndGreekLookalikes() throws {
        let lookalikes: [Character: [Character]] = [
            "a": ["\u{0430}", "\u{03B1}"], "e": ["\u{0435}"], "o": ["\u{043E}", "\u{03BF}"], "p": ["\u{0440}", "\u{03C1}"],
            "c": ["\u{0441}"], "x": ["\u{0445}", "\u{03C7}"], "y": ["\u{0443}"], "i": ["\u{0456}", "\u{03B9}"], "s": ["\u{0455}"],
            "A": ["\u{0410}", "\u{0391}"], "B": ["\u{0412}", "\u{0392}"], "E": ["\u{0415}", "\u{0395}"], "H": ["\u{041D}", "\u{0397}"],
            "K": ["\u{041A}", "\u{039A}"], "M": ["\u{041C}", "\u{039C}"], "O": ["\u{041E}", "\u{039F}"], "T": ["\u{0422}", "\u{03A4}"],
        ]
        // In the visible text: inside "<…>" a look-alike would turn a tag into words.
        try assertInvariant("look-alikes") { text, generator in
            var inTag = false
            return String(text.map { character -> Character in
                if character == "<" { inTag = true } else if character == ">" { inTag = false }
                guard !inTag, let choices = lookalikes[character], Int.random(in: 0..<3, using: &generator) == 0 else { return character }
                return choices[Int.random(in: 0..<choices.count, using: &generator)]
            })
        }
    }

    /// What must stay a difference: numbers in running text, decimals, and words that a line-end
    /// hyphen does not break.
    func testContentIsKept() {
        XCTAssertNotEqual(tokens("in 2019. Then"), tokens("in Then"))
        XCTAssertNotEqual(tokens("version 3.5 of it"), tokens("version of it"))
        XCTAssertEqual(tokens("1. Apples 2. Pears"), tokens("Apples Pears"))
        XCTAssertEqual(tokens("well-known"), tokens("well known"))
        XCTAssertEqual(tokens("exam-\nple"), tokens("example"))
        XCTAssertNotEqual(tokens("exam-\nple"), tokens("exam ple"))
        XCTAssertEqual(tokens("Tom &amp; Jerry&#39;s"), tokens("Tom & Jerry's"))
    }

    /// Dedup reads the same tokens and signatures: a document with its list lines joined is an
    /// exact duplicate of itself.
    func testDedupSeesAJoinedListAsTheSameText() {
        let list = "Steps:\n1. Preheat the oven to 180 degrees.\n2. Mix the flour and the sugar.\n3. Bake for twenty minutes."
        let joined = list.replacingOccurrences(of: "\n", with: " ")
        let (a, b) = (fingerprinter.fingerprint(of: list), fingerprinter.fingerprint(of: joined))
        XCTAssertEqual(StableHash.sequence(a.tokens.hashes), StableHash.sequence(b.tokens.hashes))
        XCTAssertEqual(a.signature, b.signature)
        XCTAssertFalse(a.signature.isEmpty)
    }
}
