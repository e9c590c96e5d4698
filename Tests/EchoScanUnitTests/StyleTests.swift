@testable import EchoScan
import CEchoScanShims
import Foundation
import XCTest
import EchoScanTestSupport

/// The style detector: its features, its training and calibration at index build, and its
/// crafted-section checks, on the bundled samples (GPT-4 and the GPT-3 fine-tune for openai, Bard
/// for google, human GSM8K solutions). What a scan writes of it: `StyleScanTests`.
final class StyleTests: XCTestCase {
    let tokenizer = Tokenizer(seed: FingerprintParameters().seed)

    func features(_ text: String, excludedWords: Set<UInt64>? = nil) -> StyleFeatures {
        var features = StyleFeatures()
        var copy = text
        copy.withUTF8 { text in
            var tokens = TokenSequence()
            tokenizer.tokenize(text, into: &tokens)
            features.read(text, tokens: tokens, excludedWords: excludedWords)
        }
        return features
    }

    func testFeaturesCountWordsPunctuationAndLineShapes() {
        let text = "Certainly! Here's a plan:\n\n1. Rest — then work.\n- Eat\n**Note:** done"
        let read = features(text)
        // Words, the fingerprint's tokens: certainly here s a plan rest then work eat note done
        // (punctuation is not a word, nor is a list marker's number).
        XCTAssertEqual(read.wordCount, 11)
        // Lowercasing, spacing, look-alike letters and invisible characters do not change the
        // features; a changed line shape does.
        XCTAssertEqual(features("CERTAINLY!   here's A plan:\n\n1. Rest — then work.\n- Eat\n**Note:** done").features, read.features)
        XCTAssertEqual(features("C\u{0435}rtainly! Her\u{200B}e's a plan:\n\n1. R\u{00AD}est — then work.\n- Eat\n**Note:** done").features, read.features)
        XCTAssertNotEqual(features("Certainly! Here's a plan:\n\n1) Rest — then work.\n* Eat\nNote: done").features.sorted(),
                          read.features.sorted())
        let lines = text.split(separator: "\n").map(String.init)
        let shapes = lines.map { line -> LineShape in
            var copy = line
            return copy.withUTF8 { LineShape($0, at: 0) }
        }
        XCTAssertEqual(shapes, [.text, .number, .bullet, .boldLeadIn])
        // The C class table says what its comment says, for every byte.
        for byte in 0...255 {
            let expected: Int
            switch UInt8(byte) {
            case 0x20, 0x09, 0x0D: expected = ECHOSCAN_STYLE_SPACE
            case 0x0A: expected = ECHOSCAN_STYLE_NEWLINE
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "_"), 0x80...0xFF:
                expected = ECHOSCAN_STYLE_OTHER
            default: expected = ECHOSCAN_STYLE_MARK
            }
            XCTAssertEqual(Int(echoscan_style_class(UInt8(byte))), expected, "byte \(byte)")
        }
        // The em dash is a mark of its own, not part of a word.
        XCTAssertEqual(features("a — b").wordCount, 2)
        XCTAssertEqual(features("a—b").wordCount, 2)
        // Any other character between words is a mark too, unless it is a space or invisible.
        XCTAssertEqual(features("a 😊 b").features.count, features("a — b").features.count)
        XCTAssertNotEqual(features("a 😊 b").features, features("a — b").features)
        XCTAssertEqual(features("a\u{00A0}\u{200B} b").features, features("a b").features)
    }

    func testPromptWordsAreNoEvidence() {
        let prompt = "Explain photosynthesis in plants"
        var copy = prompt
        var tokens = TokenSequence()
        copy.withUTF8 { tokenizer.tokenize($0, into: &tokens) }
        let text = "Photosynthesis in plants is how light becomes sugar."
        let withPrompt = features(text, excludedWords: Set(tokens.hashes))
        let without = features(text)
        // "photosynthesis", "in", "plants" and the pairs of them are dropped; the rest stays.
        XCTAssertEqual(without.features.count - withPrompt.features.count, 3 + 2)
        XCTAssertEqual(withPrompt.wordCount, without.wordCount)
    }

    func testBuildTrainsCalibratesAndIsDeterministic() throws {
        let dir = try TestSupport.temporaryDirectory()
        var options = IndexBuildOptions()
        options.threads = 1
        _ = try IndexBuilder(options: options).build(references: TestSupport.styleReferences, background: [TestSupport.styleBackground], output: dir + "/one.idx")
        options.threads = 2
        _ = try IndexBuilder(options: options).build(references: TestSupport.styleReferences, background: [TestSupport.styleBackground], output: dir + "/two.idx")
        XCTAssertEqual(FileManager.default.contents(atPath: dir + "/one.idx"), FileManager.default.contents(atPath: dir + "/two.idx"))
        let index = try ReferenceIndex(path: dir + "/one.idx")
        let style = try XCTUnwrap(index.style)
        XCTAssertEqual(style.header.vendors, ["openai", "google"])
        XCTAssertTrue(style.header.hasHumanClass)
        XCTAssertEqual(style.header.version, StyleModel.version)
        // Calibrated on held-out texts, all in the sample.
        // Bard, google's only model, cannot be held out without google: 240 of the 320 references.
        XCTAssertEqual(style.header.calibration.references, 240)
        XCTAssertEqual(style.header.calibration.humans, 55)
        XCTAssertTrue(StyleTrainer.lengthBounds.contains(style.header.minimumWords))
        XCTAssertGreaterThan(style.header.vendorScale, 0)
        // The phrases are words of the references, more frequent there than in the human text.
        XCTAssertFalse(style.header.phrases.isEmpty)
        let corpus = try TestSupport.styleReferences.map { try String(contentsOfFile: $0, encoding: .utf8).lowercased() }.joined()
        for phrase in style.header.phrases.prefix(20) {
            XCTAssertTrue(corpus.contains(phrase.text.split(separator: " ").first.map(String.init) ?? "?"), phrase.text)
            XCTAssertLessThan(phrase.humanRate, 0.5, phrase.text)
        }
        XCTAssertTrue(index.verify().isEmpty)

        // Without human text: vendors only, no model-written score.
        _ = try IndexBuilder().build(references: TestSupport.styleReferences, background: [], output: dir + "/no-human.idx")
        let vendorsOnly = try XCTUnwrap(try ReferenceIndex(path: dir + "/no-human.idx").style)
        XCTAssertFalse(vendorsOnly.header.hasHumanClass)
        // One vendor only: no style model.
        _ = try IndexBuilder().build(references: [TestSupport.styleReferences[0], TestSupport.styleReferences[2]], background: [TestSupport.styleBackground],
                                     output: dir + "/one-vendor.idx")
        XCTAssertNil(try ReferenceIndex(path: dir + "/one-vendor.idx").style)
    }

    /// Held out by text: trained on the even lines of each sample file, the odd lines' vendors are
    /// found, and the model texts read as more model-written than the human ones.
    func testHeldOutTextsGetTheirVendor() throws {
        let dir = try TestSupport.temporaryDirectory()
        var train: [String] = []
        var test: [(text: String, vendor: String?)] = []
        for file in TestSupport.styleReferences + [TestSupport.styleBackground] {
            let lines = try TestSupport.lines(file)
            let even = lines.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
            let path = dir + "/train-" + URL(fileURLWithPath: file).lastPathComponent
            try TestSupport.write(Array((even.joined(separator: "\n") + "\n").utf8), to: path)
            train.append(path)
            for line in lines.enumerated().filter({ $0.offset % 2 == 1 }).map(\.element) {
                let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                test.append((try XCTUnwrap(object["text"] as? String), object["vendor"] as? String))
            }
        }
        var options = IndexBuildOptions()
        options.style.minimumReferences = 30
        _ = try IndexBuilder(options: options).build(references: Array(train.dropLast()), background: [train.last!], output: dir + "/half.idx")
        let model = try XCTUnwrap(try ReferenceIndex(path: dir + "/half.idx").style)
        var scratch = StyleModel.Scratch()
        var right = 0, scored = 0
        var modelScores: [Double] = [], humanScores: [Double] = []
        for (text, vendor) in test {
            var copy = text
            guard let verdict = copy.withUTF8({ model.score($0, scratch: &scratch) }) else { continue }
            XCTAssertEqual(verdict.vendorProbabilities.reduce(0, +), 1, accuracy: 1e-9)
            let written = try XCTUnwrap(verdict.modelWritten)
            if let vendor {
                scored += 1
                if model.vendor(of: verdict) == vendor { right += 1 }
                modelScores.append(written)
            } else {
                humanScores.append(written)
            }
        }
        XCTAssertGreaterThan(scored, 100)
        XCTAssertGreaterThan(Double(right) / Double(scored), 0.8, "\(right) of \(scored)")
        XCTAssertGreaterThan(StyleTrainer.auroc(positives: modelScores, negatives: humanScores), 0.8)
        // The same text, the same verdict: the scratch is left clean between texts.
        var first = test[0].text, again = test[0].text
        XCTAssertEqual(first.withUTF8 { model.score($0, scratch: &scratch) }, again.withUTF8 { model.score($0, scratch: &scratch) })
    }

    func testCraftedStyleSectionsAreRefused() throws {
        let header = StyleModel.Header(version: StyleModel.version, featureBits: StyleFeatures.bits, vendors: ["a", "b"], hasHumanClass: false,
                                       biases: [0, 0], laneScales: Array(repeating: 0.01, count: StyleModel.classStride), vendorScale: 1, modelWrittenSlope: 0, modelWrittenOffset: 0, humanThreshold: 0,
                                       humanFalsePositiveRate: 0.01, minimumWords: 50, vendorMinimumWords: 100,
                                       calibration: .init(folds: 5, references: 0, humans: 0, buckets: [], modelWrittenAUROC: nil), phrases: [])
        let weights = [UInt8](repeating: 0, count: StyleFeatures.bucketCount * StyleModel.classStride)
        let dir = try TestSupport.temporaryDirectory()
        func decode(_ header: StyleModel.Header, weights: [UInt8] = weights, edit: (String) -> String = { $0 }) throws -> StyleModel {
            // Both sections in one mapped file, as in an index: the weights, then the header.
            let json = Array(edit(String(decoding: try JSONEncoder().encode(header), as: UTF8.self)).utf8)
            try TestSupport.write(weights + json, to: dir + "/x.idx")
            let file = try MappedFile(path: dir + "/x.idx")
            return try StyleModel.decode(header: UnsafeRawBufferPointer(rebasing: file.bytes[weights.count...]),
                                         weights: UnsafeRawBufferPointer(rebasing: file.bytes[..<weights.count]), in: file, tokenizer: tokenizer)
        }
        XCTAssertNoThrow(try decode(header))
        var wrongVersion = header
        wrongVersion.version = 99
        XCTAssertThrowsError(try decode(wrongVersion)) { XCTAssertTrue("\($0)".contains("style model version 99")) }
        var tooMany = header
        tooMany.vendors = (0..<7).map { "v\($0)" }
        tooMany.biases = Array(repeating: 0, count: 7)
        XCTAssertThrowsError(try decode(tooMany)) { XCTAssertTrue("\($0)".contains("7 vendors")) }
        var huge = header
        huge.biases = [0, 12345]
        XCTAssertNoThrow(try decode(huge))
        XCTAssertThrowsError(try decode(huge) { $0.replacingOccurrences(of: "12345", with: "1e400") })
        var outside = header
        outside.phrases = [.init(text: "x", bucket: UInt32(StyleFeatures.bucketCount), humanRate: 0)]
        XCTAssertThrowsError(try decode(outside)) { XCTAssertTrue("\($0)".contains("outside the feature buckets")) }
        XCTAssertThrowsError(try decode(header, weights: Array(weights.dropLast(4)))) { XCTAssertTrue("\($0)".contains("styleWeights")) }
        var vendorsFirst = header
        vendorsFirst.vendorMinimumWords = 25
        XCTAssertThrowsError(try decode(vendorsFirst)) { XCTAssertTrue("\($0)".contains("before its verdicts")) }
    }

    func testCalibrationArithmetic() {
        // Wilson intervals, as published tables give them.
        let (low, high) = StyleProfile.wilson(5, 10)
        XCTAssertEqual(low, 0.2366, accuracy: 1e-4)
        XCTAssertEqual(high, 0.7634, accuracy: 1e-4)
        XCTAssertEqual(StyleProfile.wilson(0, 10).1, 0.2775, accuracy: 1e-4)
        XCTAssertEqual(StyleTrainer.auroc(positives: [3, 4], negatives: [1, 2]), 1)
        XCTAssertEqual(StyleTrainer.auroc(positives: [1, 2], negatives: [1, 2]), 0.5)
        // A logistic fit recovers the direction and the midpoint of separable-ish data.
        let (slope, offset) = StyleTrainer.fitLogistic(positives: [1, 2, 3, 0.5], negatives: [-1, -2, -3, 0.2])
        XCTAssertGreaterThan(slope, 0)
        XCTAssertEqual(-offset / slope, 0, accuracy: 0.5)
        // The scale that fits confident, right predictions is larger than for confident, half-wrong ones.
        let right = StyleTrainer.fitScale([([0, -10], 0), ([-10, 0], 1), ([0, -5], 0)])
        let mixed = StyleTrainer.fitScale([([0, -10], 0), ([0, -10], 1), ([0, -5], 0)])
        XCTAssertGreaterThan(right, mixed)
    }
}
