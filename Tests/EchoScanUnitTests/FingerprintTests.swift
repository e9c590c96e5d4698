@testable import EchoScan
import Foundation
import XCTest
import EchoScanTestSupport

final class FingerprintTests: XCTestCase {
    let parameters = FingerprintParameters()
    lazy var fingerprinter = Fingerprinter(parameters: parameters)

    func tokens(_ text: String) -> [UInt64] { fingerprinter.fingerprint(of: text).tokens.hashes }

    func referenceTexts(_ file: String, limit: Int) throws -> [String] {
        try TestSupport.lines(TestSupport.samples + "/references/" + file).prefix(limit).map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return try XCTUnwrap(object?["text"] as? String)
        }
    }

    func testReformattingLeavesTokensUnchanged() {
        let plain = tokens("Nathan Lane began his career on Broadway. He said don't worry, it's fine - really")
        let variants = [
            "**Nathan Lane** began his career on _Broadway_.\nHe said \u{201C}don\u{2019}t worry, it\u{2019}s fine\u{201D} \u{2014} really",
            "# Nathan   Lane\u{00A0}began his career on Broadway.\r\n\r\n- He said \"don't worry, it's fine\" -- really",
            "NATHAN LANE BEGAN HIS CAREER ON BROADWAY. HE SAID DON'T WORRY, IT'S FINE - REALLY",
            "<p>Nathan Lane began his <b>career</b> on Broadway.</p> He said don't worry, it's fine - really",
            "\u{FF2E}athan Lane began his career on Broadway. He said don't worry, it's fine - really",  // fullwidth N (NFKC)
        ]
        for variant in variants { XCTAssertEqual(tokens(variant), plain, variant) }
        // Emoji and the variation selectors that pick their presentation are not words.
        XCTAssertEqual(tokens("snow \u{2744}\u{FE0F} falls"), tokens("snow falls"))
        XCTAssertEqual(tokens("\u{845B}\u{E0100}\u{845B}"), tokens("\u{845B}\u{845B}"))
        // Ordered-list numbers at a line start are markers, not words.
        XCTAssertEqual(tokens("1. Nathan Lane\n2) began"), tokens("Nathan Lane\nbegan"))
        XCTAssertNotEqual(tokens("Nathan Lane began"), tokens("Nathan Lane begins"))
    }

    /// The tokenizer has a fast path for short ASCII words inside an eight-byte window and a
    /// general one; every token of real texts (code, lists, markdown, other scripts) must hash as
    /// its own text does alone, whichever path found it.
    func testEveryTokenHashesAsItsTextAlone() throws {
        let texts = try referenceTexts("arena-hard__gpt-4-0314.jsonl", limit: 40) + referenceTexts("fastchat__bard.jsonl", limit: 40) + [
            "1. first\n2) second\n 10. tenth 3rd item\nx = y_1+2;<b>bold</b> naïve café日本語 e\u{301}tude",
            "supercalifragilistic short a bb ccc dddd eeeee ffffff ggggggg hhhhhhhh iiiiiiiii",
            // Words, tags and list markers across the 64-byte blocks of the fast path.
            String(repeating: "Word ", count: 12) + String(repeating: "x", count: 70) + " tail\n1. one\n22) two <i>it</i>"
                + String(repeating: " ab", count: 20) + "<p>\n3. three café" + String(repeating: "y", count: 64) + " end",
        ]
        for text in texts {
            let fingerprint = fingerprinter.fingerprint(of: text)
            let bytes = Array(text.utf8)
            for position in 0..<fingerprint.tokens.count {
                let piece = String(decoding: bytes[Int(fingerprint.tokens.starts[position])..<Int(fingerprint.tokens.ends[position])],
                                   as: UTF8.self)
                // A lone digit run would be read as a list marker only before "." or ")".
                var alone = TokenSequence()
                var pieceText = piece
                pieceText.withUTF8 { fingerprinter.tokenizer.tokenize($0, into: &alone) }
                XCTAssertEqual(alone.hashes, [fingerprint.tokens.hashes[position]], "\(piece) in \(text.prefix(60))")
            }
        }
        // In the last text, the list markers' numbers and the tags are not tokens; the rest are.
        let last = try XCTUnwrap(texts.last)
        let tokens = fingerprinter.fingerprint(of: last).tokens
        let bytes = Array(last.utf8)
        let pieces = (0..<tokens.count).map { String(decoding: bytes[Int(tokens.starts[$0])..<Int(tokens.ends[$0])], as: UTF8.self) }
        XCTAssertEqual(pieces.filter { $0.count < 10 && $0 != "ab" && $0 != "Word" },
                       ["tail", "one", "two", "it", "three", "end"])
        XCTAssertEqual(pieces.filter { $0.count >= 10 }, [String(repeating: "x", count: 70), "café" + String(repeating: "y", count: 64)])
    }

    func testCJKCharactersAreTokensAndSpansAreByteOffsets() {
        let text = "GPT 模型输出 café"
        let fingerprint = fingerprinter.fingerprint(of: text)
        XCTAssertEqual(fingerprint.tokens.count, 6)
        let bytes = Array(text.utf8)
        let pieces = (0..<fingerprint.tokens.count).map {
            String(decoding: bytes[Int(fingerprint.tokens.starts[$0])..<Int(fingerprint.tokens.ends[$0])], as: UTF8.self)
        }
        XCTAssertEqual(pieces, ["GPT", "模", "型", "输", "出", "café"])
    }

    /// Golden values: these pin the hash functions, so that an index built by one version or
    /// machine matches the corpus fingerprints of another. A change here is a format change.
    func testGoldenValues() {
        let fingerprint = fingerprinter.fingerprint(of: "As an AI language model, I cannot browse the internet.")
        XCTAssertEqual(fingerprint.tokens.hashes.prefix(3).map { String($0, radix: 16) },
                       GoldenValues.tokens)
        XCTAssertEqual(fingerprint.signature.prefix(4).map { $0 }, GoldenValues.signature)
        XCTAssertEqual(String(StableHash.sequence(fingerprint.tokens.hashes), radix: 16), GoldenValues.exactHash)
        XCTAssertEqual(fingerprint.winnowedPositions, GoldenValues.winnowedPositions)
    }

    func testLSHBandingFromThreshold() {
        // datasketch's choice with equal weights, and echoscan's recall-weighted default.
        XCTAssertEqual(LSHBanding(threshold: 0.8, permutations: 128, falsePositiveWeight: 0.5, falseNegativeWeight: 0.5),
                       LSHBanding(bands: 9, rows: 13))
        XCTAssertEqual(LSHBanding(threshold: 0.8, permutations: 128), LSHBanding(bands: 16, rows: 8))
        let banding = LSHBanding(threshold: 0.5, permutations: 128)
        XCTAssertLessThanOrEqual(banding.bands * banding.rows, 128)
        XCTAssertGreaterThan(banding.candidateProbability(0.9), 0.99)
        XCTAssertLessThan(banding.candidateProbability(0.1), 0.05)
    }

    /// The MinHash estimate stays within four standard errors of the exact Jaccard similarity of
    /// the k-gram sets, on real pairs: answers of different models to the same prompts, and a
    /// text against its own edited copy.
    func testMinHashEstimatesJaccardOnRealPairs() throws {
        let gpt4 = try referenceTexts("arena-hard__gpt-4-0314.jsonl", limit: 40)
        var pairs: [(String, String)] = zip(gpt4, gpt4.dropFirst()).map { ($0, $1) }
        for text in gpt4 {
            var words = text.split(separator: " ").map(String.init)
            for index in stride(from: 3, to: words.count, by: 7) { words[index] = "changed" }
            pairs.append((text, words.joined(separator: " ")))
        }
        for scheme in MinHashScheme.allCases {
            var schemeParameters = parameters
            schemeParameters.minHashScheme = scheme
            let fingerprinter = Fingerprinter(parameters: schemeParameters)
            for (lhs, rhs) in pairs {
                let a = fingerprinter.fingerprint(of: lhs)
                let b = fingerprinter.fingerprint(of: rhs)
                let setA = Set(a.shingles)
                let setB = Set(b.shingles)
                let exact = Double(setA.intersection(setB).count) / Double(setA.union(setB).count)
                let estimate = a.signature.withUnsafeBufferPointer { x in
                    b.signature.withUnsafeBufferPointer { MinHasher.similarity(x, $0) }
                }
                let error = (exact * (1 - exact) / Double(parameters.permutations)).squareRoot()
                XCTAssertEqual(estimate, exact, accuracy: max(4 * error, 0.02), "\(scheme): exact \(exact) estimate \(estimate)")
            }
        }
    }

    /// Winnowing's guarantee: a run of k + w - 1 tokens shared by two unrelated texts yields a
    /// shared fingerprint, wherever it is planted.
    func testWinnowingGuaranteeOnRandomSharedRuns() throws {
        let texts = try referenceTexts("gsm8k__175b_finetuning.jsonl", limit: 60)
        // Words that are one token each, so that a run of words is a run of tokens.
        let words = texts.joined(separator: " ").split(separator: " ").map(String.init)
            .filter { $0.allSatisfy { $0.isLetter || $0.isNumber } }
        var generator = SplitMix64(seed: 7)
        let run = parameters.guaranteedRun
        for _ in 0..<200 {
            let start = Int(generator.next() % UInt64(words.count - run))
            let shared = words[start..<(start + run)].joined(separator: " ")
            func filler() -> String {
                (0..<Int(generator.next() % 30)).map { _ in "w\(generator.next() % 1000)" }.joined(separator: " ")
            }
            let a = fingerprinter.fingerprint(of: filler() + " " + shared + " " + filler())
            let b = fingerprinter.fingerprint(of: filler() + " " + shared + " " + filler())
            XCTAssertFalse(Set(a.winnowedHashes).isDisjoint(with: b.winnowedHashes), shared)
        }
    }

    /// The winnower against the definition: every window's minimum, the rightmost on ties, each
    /// position kept once; on hashes from a small range, so that ties are common.
    /// Every rolled k-gram hash is the one its k tokens give alone, for texts shorter than, as long
    /// as and longer than k.
    func testShinglesAreThoseOfEachKGramAlone() {
        var generator = SplitMix64(seed: 5)
        for size in 1...7 {
            let shingler = Shingler(size: size, seed: 9)
            for count in 0...40 {
                let tokens = (0..<count).map { _ in generator.next() % 4 }
                var shingles: [UInt64] = []
                shingler.shingles(of: tokens, into: &shingles)
                let expected = count == 0 ? [] : (0...max(0, count - size)).map { start -> UInt64 in
                    var alone: [UInt64] = []
                    shingler.shingles(of: Array(tokens[start..<min(count, start + size)]), into: &alone)
                    return alone[0]
                }
                XCTAssertEqual(shingles, expected, "size \(size), \(count) tokens")
            }
        }
    }

    func testWinnowingMatchesTheDefinition() {
        var generator = SplitMix64(seed: 11)
        for window in 1...9 {
            let winnower = Winnower(window: window)
            for _ in 0..<300 {
                let values = (0..<Int(generator.next() % 50)).map { _ in generator.next() % 6 }
                var expected: [Int] = []
                let width = min(window, values.count)
                for start in 0..<(values.isEmpty ? 0 : values.count - width + 1) {
                    var chosen = start
                    for index in start..<(start + width) where values[index] <= values[chosen] { chosen = index }
                    if expected.last != chosen { expected.append(chosen) }
                }
                var hashes: [UInt64] = []
                var positions: [UInt32] = []
                winnower.winnow(values, hashes: &hashes, positions: &positions)
                XCTAssertEqual(positions.map(Int.init), expected, "window \(window), \(values)")
                XCTAssertEqual(hashes, expected.map { values[$0] })
            }
        }
    }

    /// The table of word scalars says what the Unicode properties say, for every scalar it covers.
    func testWordScalarTableAgreesWithTheProperties() {
        for value in UInt32(0x80)..<Tokenizer.tabledScalars {
            XCTAssertEqual(Tokenizer.isWordScalar(value), Tokenizer.hasWordProperties(value), String(value, radix: 16))
        }
        XCTAssertTrue(Tokenizer.isWordScalar(0xE9))      // é
        XCTAssertFalse(Tokenizer.isWordScalar(0x2019))   // ’
        XCTAssertTrue(Tokenizer.isWordScalar(0x0301))    // combining acute accent
        XCTAssertFalse(Tokenizer.isWordScalar(0xD800))   // a surrogate is no scalar
    }

    /// Words of simple Latin letters are hashed without Foundation's NFKC: every pair of them
    /// (and of them with ASCII, a combining mark, Greek and a ligature) hashes as the normalized
    /// word does (Greek λ: no look-alike of a Latin letter, see `Tokenizer.latinSkeleton`).
    func testSimpleLatinWordsHashAsTheirNormalizedText() {
        let tokenizer = Tokenizer(seed: parameters.seed)
        let latin = (UInt32(0x80)..<Tokenizer.latinLimit).filter { Tokenizer.simpleLatin[Int($0) - 0x80] != 0 }
            .compactMap(Unicode.Scalar.init)
        XCTAssertGreaterThan(latin.count, 300)
        XCTAssertFalse(latin.contains("\u{17F}"), "ſ is NFKC s")
        let others: [Unicode.Scalar] = ["a", "Z", "7", "\u{301}", "\u{3BB}", "\u{FB01}", "\u{130}"]
        var tokens = TokenSequence()
        for first in latin + others {
            for second in latin + others {
                var word = "x" + String(first) + String(second)
                word.withUTF8 { tokenizer.tokenize($0, into: &tokens) }
                let normalized = word.precomposedStringWithCompatibilityMapping.lowercased()
                XCTAssertEqual(tokens.hashes, [StableHash.hash(bytes: normalized.utf8, seed: tokenizer.seed)], word)
            }
        }
    }

    /// A fingerprint made in a scratch that fingerprinted longer texts before is that of a fresh
    /// one: the workers reuse their scratch across documents, and nothing of a document may leak
    /// into the next.
    func testAReusedScratchGivesTheFingerprintOfAFreshOne() throws {
        let texts = try TestSupport.lines(TestSupport.samples + "/references/arena-hard__gpt-4-0314.jsonl").prefix(20).compactMap {
            (try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["text"] as? String
        }
        XCTAssertEqual(texts.count, 20)
        var scratch = DocumentFingerprint()
        for text in texts.sorted(by: { $0.count > $1.count }) {
            var copy = text
            copy.withUTF8 { fingerprinter.fingerprint($0, into: &scratch) }
            let fresh = Fingerprinter(parameters: parameters).fingerprint(of: text)
            XCTAssertEqual(scratch.signature, fresh.signature)
            XCTAssertEqual(scratch.winnowedHashes, fresh.winnowedHashes)
            XCTAssertEqual(scratch.shingles, fresh.shingles)
            XCTAssertEqual(Array(scratch.tokens.hashes), Array(fresh.tokens.hashes))
        }
    }

    /// The marker automaton skips tokens that cannot open a phrase; its hits must be exactly
    /// those of a search for every phrase at every position.
    func testMarkerHitsAreThoseOfABruteForceSearch() throws {
        let listed = try MarkerList.load(path: TestSupport.repositoryRoot.path + "/pipelines/markers/markers-v1.yaml").markers
        // A one-token phrase, and phrases that overlap or nest in the listed ones.
        let phrases = listed + [MarkerPhrase(phrase: "Gemini", vendor: "google"),
                                MarkerPhrase(phrase: "language model", vendor: "generic"),
                                MarkerPhrase(phrase: "an AI language model developed by OpenAI", vendor: "openai")]
        let tokenizer = fingerprinter.tokenizer
        let detector = MarkerDetector(phrases: phrases, tokenizer: tokenizer)
        let phraseTokens = phrases.map { tokens($0.phrase) }
        let texts = try referenceTexts("fastchat__bard.jsonl", limit: 200) + [
            "As an AI language model developed by OpenAI, I am a large language model, trained by Google. I'm Gemini",
            "a a large language model trained by Google Gemini as an as an AI assistant I I am Claude",
            "Gemini",
        ]
        var found = 0
        for text in texts {
            let sequence = fingerprinter.fingerprint(of: text).tokens
            var expected: [MarkerHit] = []
            for end in sequence.hashes.indices {
                for (index, phrase) in phraseTokens.enumerated() where phrase.count <= end + 1 {
                    let start = end + 1 - phrase.count
                    guard Array(sequence.hashes[start...end]) == phrase else { continue }
                    expected.append(MarkerHit(phrase: phrases[index].phrase, vendor: phrases[index].vendor,
                                              span: Int(sequence.starts[start])..<Int(sequence.ends[end])))
                }
            }
            let hits = detector.find(in: sequence)
            // The automaton lists the hits ending at one token longest first; order them alike.
            let order = { (hit: MarkerHit) in [hit.span.upperBound, -hit.span.lowerBound] }
            XCTAssertEqual(hits.sorted { order($0).lexicographicallyPrecedes(order($1)) },
                           expected.sorted { order($0).lexicographicallyPrecedes(order($1)) }, text)
            found += hits.count
        }
        XCTAssertGreaterThan(found, 15)
    }
}
