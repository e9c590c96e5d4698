@testable import EchoScan
import Foundation
import XCTest
import EchoScanTestSupport

/// The evidence model: alignment scores of copies against their references, and the null
/// model that turns a score into a false-match probability.
final class EvidenceTests: XCTestCase {
    /// On draws of a known distribution (an exponential tail above a point mass at 0, as the
    /// null sample's scores look), the estimated probabilities are those of the distribution.
    func testNullModelEstimatesAKnownTail() {
        var generator = SplitMix64(seed: 7)
        let rate = 0.2
        func uniform() -> Double { Double(generator.next() >> 11) / Double(1 << 53) }
        // Half the texts share nothing (score 0), half score 10 + Exp(0.2).
        let scores = (0..<20_000).map { _ -> Double in uniform() < 0.5 ? 0 : 10 - log(1 - uniform()) / rate }
        let model = NullModel(scores: scores)
        for score in [20.0, 30.0, 45.0, 60.0] {
            let truth = 0.5 * exp(-rate * (score - 10))
            let estimate = model.falseMatchProbability(score)
            // The fitted rate's standard error is rate/√(tail size); its error grows with the
            // distance extrapolated. 2.5 standard errors, and 0.1 for the empirical part.
            let tail = Double(scores.count) * NullModel.tailFraction
            let accuracy = 0.1 + 2.5 * max(0, score - model.tailStart) * rate / tail.squareRoot()
            XCTAssertEqual(log(estimate), log(truth), accuracy: accuracy, "score \(score): \(estimate) against \(truth)")
        }
        XCTAssertEqual(model.falseMatchProbability(0), 1, accuracy: 1e-4)
        let threshold = model.threshold(forRate: 0.001)
        XCTAssertEqual(threshold, 10 + log(0.5 / 0.001) / rate, accuracy: 3)
        XCTAssertLessThanOrEqual(model.falseMatchProbability(threshold), 0.001 * 1.0001)
        var previous = 1.0
        for score in stride(from: 0.0, through: 100, by: 0.5) {
            let probability = model.falseMatchProbability(score)
            XCTAssertLessThanOrEqual(probability, previous + 1e-12, "monotone at \(score)")
            previous = probability
        }
    }

    /// Small probabilities keep their digits in the manifest instead of rounding to 0.
    func testProbabilitiesAreWrittenWithTheirSignificantDigits() {
        XCTAssertEqual(JSONWriter.formatProbability(0.5), "0.5")
        XCTAssertEqual(JSONWriter.formatProbability(0.0001), "0.0001")
        XCTAssertEqual(JSONWriter.formatProbability(0.00005), "5e-5")
        XCTAssertEqual(JSONWriter.formatProbability(1.5e-9), "1.5e-9")
        XCTAssertEqual(JSONWriter.formatProbability(9.996e-5), "1e-4")
        XCTAssertEqual(JSONWriter.formatProbability(0), "0")
        for value in [3.2e-12, 7.77e-6, 4.1e-300] {
            let written = JSONWriter.formatProbability(value)
            XCTAssertEqual(try XCTUnwrap(Double(written)), value, accuracy: value * 0.01, written)
        }
    }

    /// Numbers are written digit by digit into the line; they must read as Foundation's
    /// four-decimal rounding with the trailing zeros dropped, and integers as Swift prints them.
    func testNumbersAndIntegersAreWrittenAsTheirRoundedDecimals() throws {
        var generator = SystemRandomNumberGenerator()
        var values: [Double] = [0, -0.0, 1, -1, 0.05, 0.00005, -0.00004, 0.99995, 12.3456, 1e15, -987654.32109]
        for _ in 0..<2_000 { values.append(Double.random(in: -1e6...1e6, using: &generator) / pow(10, Double(Int.random(in: 0...8, using: &generator)))) }
        for value in values {
            var writer = JSONWriter()
            writer.beginArray(); writer.number(value); writer.integer(Int(value)); writer.endArray()
            let line = String(decoding: writer.bytes, as: UTF8.self)
            var expected = String(format: "%.4f", (value * 10_000).rounded() / 10_000)
            while expected.hasSuffix("0") { expected.removeLast() }
            if expected.hasSuffix(".") { expected.removeLast() }
            if expected == "-0" { expected = "0" }
            XCTAssertEqual(line, "[\(expected),\(Int(value))]", "\(value)")
        }
        var writer = JSONWriter()
        writer.beginArray(); writer.integer(Int.min); writer.integer(Int.max); writer.number(.nan); writer.number(-3e20); writer.endArray()
        XCTAssertEqual(String(decoding: writer.bytes, as: UTF8.self), "[\(Int.min),\(Int.max),null,-3e+20]")
    }

    /// Short null texts share less by chance than long ones: a short text's probability comes
    /// from the short null texts, a long one's from the long ones, and a length class with too
    /// few null texts for a tail of its own from the whole sample.
    func testNullModelCalibratesEachLengthOnTheNullTextsOfThatLength() {
        var generator = SplitMix64(seed: 3)
        func exponential(_ mean: Double) -> Double { -log(1 - Double(generator.next() >> 11) / Double(1 << 53)) * mean }
        var scores: [Double] = []
        var lengths: [Int] = []
        for _ in 0..<2_000 { scores.append(exponential(4)); lengths.append(40) }
        for _ in 0..<2_000 { scores.append(exponential(12)); lengths.append(400) }
        for _ in 0..<50 { scores.append(exponential(12)); lengths.append(100) }
        let model = NullModel(scores: scores, lengths: lengths)
        let pooled = NullModel(scores: scores)
        XCTAssertLessThan(model.falseMatchProbability(30, documentTokens: 40), 0.002)
        XCTAssertGreaterThan(model.falseMatchProbability(30, documentTokens: 400), 0.05)
        XCTAssertEqual(model.falseMatchProbability(30, documentTokens: 100), pooled.falseMatchProbability(30), "50 texts: the whole sample")
        XCTAssertEqual(model.falseMatchProbability(30), pooled.falseMatchProbability(30))
        XCTAssertEqual(NullModel(scores: scores).falseMatchProbability(30, documentTokens: 40), pooled.falseMatchProbability(30),
                       "lengths unknown: one model")
    }

    /// Between two chained anchors, the words a copy kept count however many words were inserted
    /// or deleted around them, as long as they lie between the anchors' diagonals.
    func testWordsKeptBetweenAnchorsCountWhateverTheEdits() {
        func common(_ document: [UInt64], _ reference: [UInt64]) -> Int {
            document.withUnsafeBufferPointer { doc in
                reference.withUnsafeBufferPointer { EvidenceAligner.commonTokens(doc, 0..<document.count, $0, 0..<reference.count) }
            }
        }
        // Two insertions apart: 1 on the first diagonal, 2 between, 3 4 5 on the last.
        XCTAssertEqual(common([1, 99, 2, 98, 3, 4, 5], [1, 2, 3, 4, 5]), 5)
        XCTAssertEqual(common([1, 2, 3, 4, 5], [1, 97, 2, 3, 96, 4, 5]), 5, "deletions")
        XCTAssertEqual(common([1, 9, 3, 9, 5], [1, 2, 3, 4, 5]), 3, "substitutions")
        XCTAssertEqual(common([7, 8, 9, 1], [1, 2, 3, 4]), 0, "a word far off the diagonals is chance")
        XCTAssertEqual(common([], [1]), 0)
        let long = (0..<64).map { UInt64($0) }
        XCTAssertEqual(common(long, long), 64)
    }

    func testNullModelOfATinySampleFallsBackToItsPrior() {
        let model = NullModel(scores: [0, 3])
        XCTAssertEqual(model.tailRate, NullModel.fallbackRate)
        XCTAssertLessThan(model.falseMatchProbability(40), 0.001)
        XCTAssertGreaterThan(model.falseMatchProbability(5), 0.01)
    }

    struct Sample {
        var index: ReferenceIndex
        var matcher: Matcher
        var references: [String]
        var human: [String]
    }

    nonisolated(unsafe) static var built: Sample?

    func sample() throws -> Sample {
        if let built = Self.built { return built }
        let dir = try TestSupport.temporaryDirectory("evidence")
        let files = try FileManager.default.contentsOfDirectory(atPath: TestSupport.samples + "/references").sorted()
            .map { TestSupport.samples + "/references/" + $0 }
        _ = try IndexBuilder().build(references: files, background: [TestSupport.samples + "/background/human.jsonl"],
                                     output: dir + "/reference.idx")
        let index = try ReferenceIndex(path: dir + "/reference.idx")
        func texts(_ path: String) throws -> [String] {
            try TestSupport.lines(path).map {
                try XCTUnwrap((try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["text"] as? String)
            }
        }
        let built = Sample(index: index, matcher: Matcher(index: index, options: MatchOptions(), markers: []),
                           references: try texts(TestSupport.samples + "/references/arena-hard__gpt-4-0314.jsonl"),
                           human: try texts(TestSupport.samples + "/background/human.jsonl"))
        Self.built = built
        return built
    }

    func verdict(_ text: String, _ sample: Sample) -> DocumentVerdict {
        var scratch = Matcher.Scratch()
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBufferPointer { sample.matcher.match(UnsafeBufferPointer($0), scratch: &scratch) }
    }

    func testTheBuildKeepsANullSample() throws {
        let sample = try sample()
        // The sample's references answer no prompt in common across vendors: every reference
        // is in the null sample, and the prior bounds the threshold from below.
        XCTAssertGreaterThan(sample.index.nullModel.scores.count, 200)
        let threshold = sample.index.nullModel.threshold(forRate: 0.001)
        XCTAssertGreaterThanOrEqual(threshold, log(1000) / NullModel.fallbackRate - 1e-9)
        XCTAssertLessThan(threshold, 200)
        XCTAssertEqual(sample.index.nullModel.falseMatchProbability(threshold), 0.001, accuracy: 1e-9)
    }

    /// A quarter of the words replaced at random, in real answers of at least 150 words: most are
    /// found, with passages that span much of the document and a small false-match probability.
    func testAnAnswerWithAQuarterOfItsWordsReplacedIsFound() throws {
        let sample = try sample()
        let filler = sample.human.joined(separator: " ").split(separator: " ")
        var generator = SplitMix64(seed: 25)
        var tried = 0
        var missed = 0
        for text in sample.references.filter({ $0.split(separator: " ").count >= 150 }).prefix(10) {
            let words = text.split(separator: " ", omittingEmptySubsequences: false)
            let edited = words.enumerated().map { generator.next() % 4 == 0 ? filler[$0.offset % filler.count] : $0.element }
                .joined(separator: " ")
            tried += 1
            guard let best = verdict(edited, sample).matches.first else {
                missed += 1
                continue
            }
            XCTAssertLessThanOrEqual(best.falseMatchProbability, 0.001)
            XCTAssertEqual(sample.index.reference(sample.index.representative(ofGroup: best.group)).model, "gpt-4-0314")
            XCTAssertGreaterThan(best.spans.reduce(0) { $0 + $1.count }, edited.utf8.count / 4, "the passages span much of the copy")
        }
        XCTAssertEqual(tried, 10)
        XCTAssertLessThanOrEqual(missed, 2, "most found (docs/QUALITY.md: 67-77% at 20-25% edits in 50+ words)")
    }

    /// An answer whose sentences are shuffled: each run of sentences still in order is a passage
    /// of its own, and the match's evidence adds them up — more than its longest passage holds.
    func testShuffledSentencesAddUpTheirPassages() throws {
        let sample = try sample()
        var generator = SplitMix64(seed: 7)
        var tried = 0
        for text in sample.references.filter({ $0.split(separator: " ").count >= 150 }).prefix(8) {
            var sentences = text.components(separatedBy: ". ")
            guard sentences.count >= 6 else { continue }
            sentences.shuffle(using: &generator)
            let shuffled = sentences.joined(separator: ". ")
            let best = try XCTUnwrap(verdict(shuffled, sample).matches.first, shuffled)
            XCTAssertLessThanOrEqual(best.falseMatchProbability, 0.001)
            XCTAssertGreaterThanOrEqual(best.spans.count, 2)
            var tokens = TokenSequence()
            var bytes = Array(shuffled.utf8)
            bytes.withUnsafeMutableBufferPointer { sample.matcher.fingerprinter.tokenizer.tokenize(UnsafeBufferPointer($0), into: &tokens) }
            let longest = best.spans.map { span in tokens.starts.filter { span.contains(Int($0)) }.count }.max() ?? 0
            XCTAssertGreaterThan(best.score, Double(longest), "the score adds up passages (\(best.spans.count) of them)")
            tried += 1
        }
        XCTAssertGreaterThanOrEqual(tried, 4)
    }

    /// An answer cut into pieces of eight words, each too short to be a passage alone, and
    /// shuffled: the pieces tile the document, so they are one run of evidence and the answer is
    /// found.
    func testShuffledPiecesTooShortAloneAreFoundTogether() throws {
        let sample = try sample()
        var generator = SplitMix64(seed: 11)
        var tried = 0
        for text in sample.references.filter({ $0.split(separator: " ").count >= 240 }).prefix(6) {
            let words = text.split(separator: " ")
            var pieces = stride(from: 0, to: words.count - 8, by: 8).map { words[$0..<($0 + 8)].joined(separator: " ") }
            pieces.shuffle(using: &generator)
            let piece = verdict(pieces[0], sample)
            XCTAssertTrue(piece.matches.isEmpty, "one piece alone is no evidence: \(pieces[0])")
            let best = try XCTUnwrap(verdict(pieces.joined(separator: " "), sample).matches.first, pieces.joined(separator: " "))
            XCTAssertLessThanOrEqual(best.falseMatchProbability, 0.001)
            XCTAssertEqual(sample.index.reference(sample.index.representative(ofGroup: best.group)).model, "gpt-4-0314")
            XCTAssertGreaterThan(best.spans.count, 10, "the pieces are its passages")
            tried += 1
        }
        XCTAssertEqual(tried, 6)
    }

    /// Sixty words of an answer pasted into a page ten times as long: found, and its passage lies
    /// inside the pasted bytes.
    func testAnExcerptInsideAPageIsFoundWhereItIs() throws {
        let sample = try sample()
        let host = sample.human.filter { $0.split(separator: " ").count >= 300 }
        XCTAssertGreaterThanOrEqual(host.count, 2)
        var tried = 0
        for text in sample.references.filter({ $0.split(separator: " ").count >= 200 }).prefix(8) {
            let words = text.split(separator: " ")
            let excerpt = words[60..<120].joined(separator: " ")
            let before = host[tried % host.count]
            let page = before + "\n\n" + excerpt + "\n\n" + host[(tried + 1) % host.count]
            let found = verdict(page, sample)
            let best = try XCTUnwrap(found.matches.first, excerpt)
            XCTAssertLessThanOrEqual(best.falseMatchProbability, 0.001)
            let pasted = (before.utf8.count + 2)..<(before.utf8.count + 2 + excerpt.utf8.count)
            for span in best.spans { XCTAssertTrue(pasted.contains(span.lowerBound) && span.upperBound <= pasted.upperBound, "\(span) in \(pasted)") }
            XCTAssertLessThan(best.containment, 0.7, "the score does not ask for most of the reference")
            tried += 1
        }
        XCTAssertEqual(tried, 8)
    }

    /// Two versions of one vendor's model that share a paragraph do not set the evidence needed:
    /// the null sample matches each reference only with other vendors' references.
    func testTheNullSampleLeavesOutTheReferencesOwnVendor() throws {
        let sample = try sample()
        let long = sample.human.filter { $0.split(separator: " ").count >= 150 }
        XCTAssertGreaterThanOrEqual(long.count, 3)
        let dir = try TestSupport.temporaryDirectory()
        func line(_ object: [String: String]) throws -> String {
            String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        }
        let shared = long[0].split(separator: " ").prefix(120).joined(separator: " ")
        let references = [
            try line(["id": "a1", "text": long[0], "model": "model-1", "vendor": "vendor-a", "prompt": "Write about it."]),
            try line(["id": "a2", "text": shared + "\n\n" + long[1], "model": "model-2", "vendor": "vendor-a", "prompt": "Write about it."]),
            try line(["id": "b1", "text": long[2], "model": "model-3", "vendor": "vendor-b", "prompt": "Write about it."]),
        ]
        try TestSupport.write([UInt8]((references.joined(separator: "\n") + "\n").utf8), to: dir + "/references.jsonl")
        _ = try IndexBuilder().build(references: [dir + "/references.jsonl"], output: dir + "/reference.idx")
        let index = try ReferenceIndex(path: dir + "/reference.idx")
        XCTAssertEqual(index.groupCount, 3)
        XCTAssertEqual(index.nullModel.scores.count, 3)
        XCTAssertEqual(index.nullModel.scores.max(), 0, "the shared paragraph of a1 and a2 is not in the null")
        // With only the reference's own group left out, a1 against a2 would score the paragraph
        // (as the null sample scores it: leaving a1 out of the paragraph's k-gram frequencies).
        let matcher = Matcher(index: index, options: MatchOptions(), markers: [])
        var scratch = Matcher.Scratch()
        var bytes = Array(long[0].utf8)
        let fingerprint = bytes.withUnsafeMutableBufferPointer { buffer -> DocumentFingerprint in
            matcher.fingerprinter.fingerprint(UnsafeBufferPointer(buffer), into: &scratch.fingerprint)
            return scratch.fingerprint
        }
        let a2 = try XCTUnwrap((0..<index.groupCount).first { index.reference(index.representative(ofGroup: $0)).id == "a2" })
        XCTAssertGreaterThan(matcher.evaluate(group: a2, segment: 0, fingerprint: fingerprint, scratch: &scratch, leavingOneOut: true).score, 100)
        // For a document of the corpus, a k-gram in two groups is common: the paragraph is no evidence.
        XCTAssertEqual(matcher.evaluate(group: a2, segment: 0, fingerprint: fingerprint, scratch: &scratch).score, 0)
    }

    /// Human pages are not copies of any model's answer: none of them is flagged.
    func testHumanTextIsNotFlagged() throws {
        let sample = try sample()
        let flagged = sample.human.filter { !verdict($0, sample).matches.isEmpty }
        XCTAssertEqual(flagged.count, 0, "\(flagged.map { $0.prefix(80) })")
    }
}
