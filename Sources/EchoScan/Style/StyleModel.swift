import CEchoScanShims
import Foundation

/// The style detector's model, trained at index build (`StyleTrainer`) and kept in the index:
/// one-vs-rest logistic regression over `StyleFeatures` (log(1 + count) × idf per bucket,
/// L2-normalised), one class per vendor with enough references and one for the human and
/// background text given to the build, with its calibration on references held out by model.
///
/// Style evidence is a likelihood that a text reads like a vendor's model wrote it, not evidence
/// of a copy: it matches no known output.
/// The weights lie in the index's read-only memory map, which the model keeps alive (`mapping`)
/// however long it outlives the `ReferenceIndex`: shared by all threads without locks. A class:
/// every document's verdict passes the model along, and a copy is one reference, not the header's
/// dozen arrays and strings.
public final class StyleModel: @unchecked Sendable {
    /// What the index's `styleModel` section holds (JSON); the weights are the `styleWeights`
    /// section, `StyleModel.classStride` signed bytes per feature bucket: the classes' weights,
    /// then the bucket's idf in the last lane, each lane in units of its `laneScales` entry (2 MB
    /// for the table, which stays in a core's cache where 8 MB of f32 did not).
    public struct Header: Codable, Sendable, Equatable {
        public var version: Int
        public var featureBits: Int
        /// The vendor classes, in weight order; `human` follows them when the build had human text.
        public var vendors: [String]
        public var hasHumanClass: Bool
        /// Per class (vendors, then human), the intercept of its decision function.
        public var biases: [Double]
        /// Per lane of the weights, the value of one unit.
        public var laneScales: [Double]
        /// Vendor probabilities are softmax(decision × `vendorScale`).
        public var vendorScale: Double
        /// model_written = σ(`modelWrittenSlope` · z + `modelWrittenOffset`), z = the best vendor's
        /// decision less the human class's.
        public var modelWrittenSlope: Double
        public var modelWrittenOffset: Double
        /// The z that held-out human texts reach at most `humanFalsePositiveRate` of the time: the
        /// default threshold for calling a text model-written.
        public var humanThreshold: Double
        public var humanFalsePositiveRate: Double
        /// Texts with fewer words get no style verdict: below it, more held-out human texts than
        /// the rate allows read as model-written (without human text: as `vendorMinimumWords`).
        /// `StyleModel.noLength` when no length is supported.
        public var minimumWords: Int
        /// Texts with fewer words get no vendor: below it, the held-out vendor accuracy falls under
        /// the build's `minimumAccuracy`. At least `minimumWords`.
        public var vendorMinimumWords: Int
        public var calibration: StyleCalibrationReport
        /// The features most over-represented in model-written text against the human text, with
        /// the words they stand for, for the profile's phrases.
        public var phrases: [Phrase]

        /// Whether texts get a model-written score: the build had human text, and held-out
        /// references read as more model-written than held-out human texts (a positive slope).
        public var scoresModelWritten: Bool { hasHumanClass && modelWrittenSlope > 0 }

        enum CodingKeys: String, CodingKey {
            case version, featureBits = "feature_bits", vendors, hasHumanClass = "has_human_class", biases, laneScales = "lane_scales", vendorScale = "vendor_scale"
            case modelWrittenSlope = "model_written_slope", modelWrittenOffset = "model_written_offset"
            case humanThreshold = "human_threshold", humanFalsePositiveRate = "human_false_positive_rate"
            case minimumWords = "minimum_words", vendorMinimumWords = "vendor_minimum_words", calibration, phrases
        }
    }

    /// A phrase the build found over-represented in model text: its feature bucket and human rate.
    public struct Phrase: Codable, Sendable, Equatable {
        public var text: String
        public var bucket: UInt32
        /// Share of the human texts of the build in which the feature occurs.
        public var humanRate: Double

        enum CodingKeys: String, CodingKey { case text, bucket, humanRate = "human_rate" }
    }

    public static let version = 4
    /// A minimum length no text reaches (texts are read up to `StyleFeatures.maximumWords`): the
    /// calibration supports no verdict at any length.
    public static let noLength = StyleFeatures.maximumWords + 1
    /// Lanes per feature bucket in the weights: the vendors and human, padded, and the idf last.
    public static let classStride = 8
    static let maximumVendors = classStride - 2

    public let header: Header
    /// The index's tokenizer: the style's words are the fingerprint's tokens.
    let tokenizer: Tokenizer
    /// `classStride` signed bytes per bucket.
    let weights: UnsafeRawBufferPointer
    let laneScales: SIMD8<Float>
    private let mapping: MappedFile
    /// Bucket → index in `header.phrases` + 1 (0: not a phrase), and a bit per bucket that is
    /// one, tested first (most buckets are not).
    let phraseNumbers: [UInt32: Int]
    let phraseBits: [UInt64]

    init(header: Header, weights: UnsafeRawBufferPointer, mapping: MappedFile, tokenizer: Tokenizer) {
        self.header = header
        self.tokenizer = tokenizer
        self.weights = weights
        self.mapping = mapping
        var scales = SIMD8<Float>(repeating: 0)
        for (lane, scale) in header.laneScales.enumerated() { scales[lane] = Float(scale) }
        laneScales = scales
        var numbers: [UInt32: Int] = [:]
        var bits = [UInt64](repeating: 0, count: StyleFeatures.bucketCount / 64)
        for (number, phrase) in header.phrases.enumerated() where numbers[phrase.bucket] == nil {
            numbers[phrase.bucket] = number + 1
            bits[Int(phrase.bucket) >> 6] |= 1 << (UInt64(phrase.bucket) & 63)
        }
        phraseNumbers = numbers
        phraseBits = bits
    }

    /// Reads the two sections, checking what the scan will index with.
    static func decode(header bytes: UnsafeRawBufferPointer, weights: UnsafeRawBufferPointer, in mapping: MappedFile, tokenizer: Tokenizer) throws -> StyleModel {
        let path = mapping.path
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: Data(bytes))
        } catch {
            throw IndexError(path: path, reason: "section styleModel does not decode: \(error)")
        }
        guard header.version == version else {
            throw IndexError(path: path, reason: "style model version \(header.version) is not \(version) (rebuild the index)")
        }
        guard header.featureBits == StyleFeatures.bits, !header.vendors.isEmpty, header.vendors.count <= maximumVendors,
              header.biases.count == header.vendors.count + (header.hasHumanClass ? 1 : 0),
              header.laneScales.count == classStride, header.laneScales.allSatisfy({ $0.isFinite && $0 >= 0 }),
              header.biases.allSatisfy(\.isFinite), header.vendorScale.isFinite, header.modelWrittenSlope.isFinite, header.modelWrittenOffset.isFinite else {
            throw IndexError(path: path, reason: "section styleModel has \(header.vendors.count) vendors, \(header.biases.count) biases and \(header.featureBits) feature bits, or a number that is not finite")
        }
        guard header.minimumWords >= 0, header.vendorMinimumWords >= header.minimumWords else {
            throw IndexError(path: path, reason: "section styleModel names vendors from \(header.vendorMinimumWords) words, before its verdicts (\(header.minimumWords) words)")
        }
        guard weights.count == StyleFeatures.bucketCount * classStride else {
            throw IndexError(path: path, reason: "section styleWeights has \(weights.count) bytes, expected \(StyleFeatures.bucketCount * classStride)")
        }
        guard header.phrases.allSatisfy({ Int($0.bucket) < StyleFeatures.bucketCount }) else {
            throw IndexError(path: path, reason: "section styleModel names a phrase outside the feature buckets")
        }
        guard let base = mapping.bytes.baseAddress, let start = weights.baseAddress,
              start >= base, start + weights.count <= base + mapping.bytes.count else {
            throw IndexError(path: path, reason: "section styleWeights lies outside the index's mapping")
        }
        return StyleModel(header: header, weights: weights, mapping: mapping, tokenizer: tokenizer)
    }

    /// Per-worker buffers: a count per bucket (one byte, zero between texts) and room for a
    /// text's phrases.
    public struct Scratch {
        var features = StyleFeatures()
        var tokens = TokenSequence()
        var counts: [UInt8]
        var phrases: [UInt32] = []
        public init() { counts = Array(repeating: 0, count: StyleFeatures.bucketCount) }
    }

    /// The classes' decisions (without the biases) for features already read into
    /// `scratch.features`: Σ w·x over the text's buckets, x = log(1 + count) × idf / ‖x‖
    /// (`echoscan_style_weigh`; each bucket weighed at its first occurrence).
    func decisions(scratch: inout Scratch, phrases: inout [Int]) -> SIMD8<Float> {
        var sum = SIMD8<Float>(repeating: 0)
        var norm: Float = 0
        let features = scratch.features.features
        guard let base = weights.baseAddress?.assumingMemoryBound(to: Int8.self), !features.isEmpty else { return sum }
        if scratch.phrases.count < features.count { scratch.phrases = Array(repeating: 0, count: features.count) }
        let found = features.withUnsafeBufferPointer { features in
            scratch.counts.withUnsafeMutableBufferPointer { counts in
                scratch.phrases.withUnsafeMutableBufferPointer { phrases in
                    phraseBits.withUnsafeBufferPointer { phraseBits in
                        withUnsafeMutableBytes(of: &sum) { sum in
                            echoscan_style_weigh(features.baseAddress, features.count, counts.baseAddress, base, Self.logTable,
                                                 laneScales[Self.classStride - 1], phraseBits.baseAddress,
                                                 sum.baseAddress?.assumingMemoryBound(to: Float.self), &norm, phrases.baseAddress)
                        }
                    }
                }
            }
        }
        for bucket in scratch.phrases.prefix(found) {
            if let number = phraseNumbers[bucket] { phrases.append(number - 1) }
        }
        sum *= laneScales
        return norm > 0 ? sum / norm.squareRoot() : sum
    }

    /// log(1 + n) for the counts a bucket can reach.
    static let logTable: [Float] = (0...255).map { Float(log1p(Double($0))) }

    /// Style scores of one text; nil when it is shorter than the calibration supports.
    public func score(_ text: UnsafeBufferPointer<UInt8>, scratch: inout Scratch) -> StyleVerdict? {
        tokenizer.tokenize(text, into: &scratch.tokens)
        let tokens = scratch.tokens
        return score(text, tokens: tokens, scratch: &scratch)
    }

    /// Style scores of one text whose tokens (by the index's tokenizer) a scan already has.
    func score(_ text: UnsafeBufferPointer<UInt8>, tokens: TokenSequence, scratch: inout Scratch) -> StyleVerdict? {
        scratch.features.read(text, tokens: tokens)
        guard scratch.features.wordCount >= header.minimumWords else { return nil }
        var phrases: [Int] = []
        let sums = decisions(scratch: &scratch, phrases: &phrases)
        var decisions = SIMD8<Double>(repeating: 0)
        for (lane, bias) in header.biases.enumerated() { decisions[lane] = Double(sums[lane]) + bias }
        return verdict(decisions: decisions, words: scratch.features.wordCount, phrases: phrases)
    }

    func verdict(decisions: SIMD8<Double>, words: Int, phrases: [Int]) -> StyleVerdict {
        let vendorCount = header.vendors.count
        var best = decisions[0]
        for lane in 1..<vendorCount { best = max(best, decisions[lane]) }
        var verdict = StyleVerdict(words: words, phrases: phrases.sorted())
        if words >= header.vendorMinimumWords {
            var probabilities = SIMD8<Double>(repeating: 0)
            var sum = 0.0
            for lane in 0..<vendorCount {
                probabilities[lane] = exp((decisions[lane] - best) * header.vendorScale)
                sum += probabilities[lane]
            }
            verdict.probabilities = probabilities / sum
            verdict.vendorCount = vendorCount
        }
        if header.scoresModelWritten {
            let z = best - decisions[vendorCount]
            verdict.z = z
            verdict.modelWritten = 1 / (1 + exp(-(header.modelWrittenSlope * z + header.modelWrittenOffset)))
        }
        return verdict
    }

    /// The vendor a verdict names (the most probable); nil when the text is too short for one.
    func vendor(of verdict: StyleVerdict) -> String? {
        verdict.mostProbableVendor.map { header.vendors[$0] }
    }
}

/// The style detector's scores for one text: a value without references (a verdict is made,
/// copied and counted for every document of a scan).
public struct StyleVerdict: Sendable, Equatable {
    /// Words read (at most `StyleFeatures.maximumWords`).
    public var words: Int
    /// Calibrated probability of each of the model's vendors, given that a model wrote the text;
    /// empty below the model's `vendorMinimumWords`.
    public var vendorProbabilities: [Double] { (0..<vendorCount).map { probabilities[$0] } }
    /// Calibrated probability that a model rather than a person wrote the text (equal priors);
    /// nil when the index was built without human text.
    public var modelWritten: Double?
    /// The statistic behind `modelWritten`, compared with the model's human threshold.
    public var z: Double?
    /// Numbers of the model's phrases the text holds.
    public var phrases: [Int]
    /// The vendors' probabilities in their first `vendorCount` lanes (0: no vendor named).
    var probabilities = SIMD8<Double>(repeating: 0)
    var vendorCount = 0

    init(words: Int, phrases: [Int]) {
        self.words = words
        self.phrases = phrases
    }

    /// The vendor's probability; `vendor` < `vendorCount`.
    func probability(ofVendor vendor: Int) -> Double { probabilities[vendor] }

    /// The number of the most probable vendor (the first of equals); nil when none is named.
    var mostProbableVendor: Int? {
        guard vendorCount > 0 else { return nil }
        var best = 0
        for vendor in 1..<vendorCount where probabilities[vendor] > probabilities[best] { best = vendor }
        return best
    }
}
