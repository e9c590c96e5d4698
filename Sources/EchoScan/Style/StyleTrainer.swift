import Foundation

/// How the style model is trained (`IndexBuildOptions.style`).
public struct StyleTrainingOptions: Sendable, Equatable {
    public var enabled = true
    /// A vendor needs this many references to be a class of its own.
    public var minimumReferences = 50
    /// L2 regularisation of the logistic regression (scikit-learn's `alpha`).
    public var regularization = 2e-6
    /// Passes of stochastic gradient descent over the texts.
    public var epochs = 5
    /// The share of held-out human texts the default model-written threshold lets through.
    public var humanFalsePositiveRate = 0.01
    /// Texts of a length whose held-out vendor accuracy is below this get no vendor.
    public var minimumAccuracy = 0.6
    /// Texts the model is trained and calibrated on (references and human texts, a hash-chosen
    /// sample; about 5 KB of memory each).
    public var trainingSample = 50_000
    /// Phrases kept for the style profile.
    public var phraseCount = 200

    public init() {}
}

/// What the calibration measured on held-out texts, kept in the model and printed by
/// `echoscan index info`.
public struct StyleCalibrationReport: Codable, Sendable, Equatable {
    /// Held-out figures for texts of one length bucket: vendor accuracy, recall and human false positives.
    public struct LengthBucket: Codable, Sendable, Equatable {
        public var minimumWords: Int
        public var references: Int
        /// Share of held-out references whose most probable vendor is theirs.
        public var vendorAccuracy: Double
        public var humans: Int
        /// Share of held-out human texts at or above the model-written threshold.
        public var humanFalsePositives: Double
        /// Share of held-out references at or above it.
        public var modelWrittenRecall: Double

        enum CodingKeys: String, CodingKey {
            case minimumWords = "minimum_words", references, vendorAccuracy = "vendor_accuracy", humans
            case humanFalsePositives = "human_false_positives", modelWrittenRecall = "model_written_recall"
        }
    }

    /// Models are held out in this many folds (a vendor's models in turn, in order of appearance);
    /// human texts by a hash of their position.
    public var folds: Int
    public var references: Int
    public var humans: Int
    public var buckets: [LengthBucket]
    /// Area under the ROC curve of model-written against human, held-out texts of `minimum_words`
    /// or more.
    public var modelWrittenAUROC: Double?

    enum CodingKeys: String, CodingKey {
        case folds, references, humans, buckets, modelWrittenAUROC = "model_written_auroc"
    }
}

/// Trains the style model from the references and the human text of an index build.
///
/// The model is one-vs-rest logistic regression (`LogisticRegression`) over the texts' features
/// (log(1 + count) × idf per bucket, L2-normalised), with a class per vendor and one for human
/// text. A hash-chosen sample of at most `trainingSample` texts is kept as packed features. Each
/// text has a fold: references are held out by model (a vendor's models take the folds in turn),
/// human texts by a hash of their position. `finish` fits the model once per fold without that
/// fold's texts and scores them — a held-out reference is scored by a model that saw none of its
/// own model's outputs, as a scan meets a model the index does not hold — and calibrates on those
/// scores: the vendor posterior's scale (maximum likelihood), the model-written probability
/// (logistic, equal priors), the threshold that `humanFalsePositiveRate` of held-out human texts
/// reach, and the shortest text length with a verdict. Then it fits the model on all of them.
struct StyleTrainer {
    static let folds = 5
    /// Length buckets of the calibration report, in words read (at most `StyleFeatures.maximumWords`).
    static let lengthBounds = [0, 25, 50, 100, 150]

    /// A held-out text: packed (bucket << 14 | count) features, its class and fold.
    struct Sample {
        var priority: UInt64
        var features: [UInt32]
        var words: Int
        /// Vendor name, or nil for human text.
        var vendor: String?
        var fold: Int
    }

    let options: StyleTrainingOptions
    private(set) var vendors: [String] = []
    private var vendorNumbers: [String: Int] = [:]
    private var referenceCounts: [Int] = []
    /// Models seen per vendor, and the fold of each model.
    private var vendorModels: [Int] = []
    private var modelFolds: [String: Int] = [:]
    private(set) var humanTexts = 0
    private(set) var referenceTexts = 0
    /// Documents holding each bucket, among references and among human texts (for phrases).
    private var referenceDocumentFrequency: [UInt32]
    private var humanDocumentFrequency: [UInt32]
    private var samples: [Sample] = []
    private var sampleLimitPriority = UInt64.max

    init(options: StyleTrainingOptions) {
        self.options = options
        referenceDocumentFrequency = Array(repeating: 0, count: StyleFeatures.bucketCount)
        humanDocumentFrequency = referenceDocumentFrequency
    }

    /// The features of each document of a batch, read in parallel, packed (bucket, count) in
    /// first-occurrence order, with the word count.
    static func vectors(of batch: DocumentBatch, tokenizer: Tokenizer, threads: Int, prompts: Bool) -> [(features: [UInt32], words: Int)] {
        Parallel.map(count: batch.documents.count, threads: threads, makeState: { StyleModel.Scratch() }) { scratch, index in
            let document = batch.documents[index]
            var excluded: Set<UInt64>? = nil
            if prompts, var prompt = document.prompt, !prompt.isEmpty {
                prompt.withUTF8 { tokenizer.tokenize($0, into: &scratch.tokens) }
                excluded = Set(scratch.tokens.hashes)
            }
            batch.withText(of: document) { text in
                tokenizer.tokenize(text, into: &scratch.tokens)
                let tokens = scratch.tokens
                scratch.features.read(text, tokens: tokens, excludedWords: excluded)
            }
            return (pack(scratch.features.features, counts: &scratch.counts), scratch.features.wordCount)
        }
    }

    static let countBits: UInt32 = 14

    static func pack(_ features: ArraySlice<UInt32>, counts: inout [UInt8]) -> [UInt32] {
        var packed: [UInt32] = []
        counts.withUnsafeMutableBufferPointer { counts in
            for feature in features where counts[Int(feature)] < .max { counts[Int(feature)] += 1 }
            for feature in features where counts[Int(feature)] != 0 {
                packed.append(feature << countBits | UInt32(counts[Int(feature)]))
                counts[Int(feature)] = 0
            }
        }
        return packed
    }

    /// Adds the build's next reference, of `model` by `vendor`.
    mutating func addReference(_ vector: (features: [UInt32], words: Int), model: String, vendor: String) {
        let ordinal = referenceTexts
        referenceTexts += 1
        guard vendor != "unknown" else { return }
        let number: Int
        if let known = vendorNumbers[vendor] {
            number = known
        } else {
            number = vendors.count
            vendorNumbers[vendor] = number
            vendors.append(vendor)
            referenceCounts.append(0)
            vendorModels.append(0)
        }
        referenceCounts[number] += 1
        let fold: Int
        if let known = modelFolds[model] {
            fold = known
        } else {
            // A vendor's models take the folds in turn, so that holding one out leaves the others.
            fold = vendorModels[number] % Self.folds
            vendorModels[number] += 1
            modelFolds[model] = fold
        }
        for packed in vector.features { referenceDocumentFrequency[Int(packed >> Self.countBits)] &+= 1 }
        keep(Sample(priority: StableHash.mix(UInt64(ordinal) &+ 0x5245_4600), features: vector.features, words: vector.words,
                    vendor: vendor, fold: fold))
    }

    /// Adds the build's next human (background) text.
    mutating func addHuman(_ vector: (features: [UInt32], words: Int)) {
        let ordinal = humanTexts
        humanTexts += 1
        let priority = StableHash.mix(UInt64(ordinal) &+ 0x4855_4D00)
        let fold = Int(priority % UInt64(Self.folds))
        for packed in vector.features { humanDocumentFrequency[Int(packed >> Self.countBits)] &+= 1 }
        keep(Sample(priority: priority, features: vector.features, words: vector.words, vendor: nil, fold: fold))
    }

    /// Keeps the `trainingSample` texts of lowest priority, in bounded memory.
    private mutating func keep(_ sample: Sample) {
        guard sample.priority < sampleLimitPriority else { return }
        samples.append(sample)
        if samples.count >= 2 * options.trainingSample {
            samples.sort { $0.priority < $1.priority }
            samples.removeLast(samples.count - options.trainingSample)
            sampleLimitPriority = samples.last?.priority ?? .max
        }
    }

    /// The trained model's header and weights, or nil when fewer than two vendors have
    /// `minimumReferences` references.
    mutating func finish(threads: Int) -> (header: StyleModel.Header, weights: [UInt8], phraseBuckets: [UInt32])? {
        let classes = vendors.indices.filter { referenceCounts[$0] >= options.minimumReferences }
            .sorted { referenceCounts[$0] != referenceCounts[$1] ? referenceCounts[$0] > referenceCounts[$1] : vendors[$0] < vendors[$1] }
            .prefix(StyleModel.maximumVendors)
        guard classes.count >= 2 else { return nil }
        let classVendors = classes.map { vendors[$0] }
        let vendorCount = classVendors.count
        let hasHuman = humanTexts > 0
        let classCount = vendorCount + (hasHuman ? 1 : 0)

        // The training set: the sample's texts of the classes, as idf-weighted unit vectors.
        samples.sort { $0.priority < $1.priority }
        if samples.count > options.trainingSample { samples.removeLast(samples.count - options.trainingSample) }
        let kept = samples.compactMap { sample -> (Sample, Int)? in
            guard let vendor = sample.vendor else { return hasHuman ? (sample, vendorCount) : nil }
            return classVendors.firstIndex(of: vendor).map { (sample, $0) }
        }
        samples = []
        var documentFrequency = [UInt32](repeating: 0, count: StyleFeatures.bucketCount)
        for (sample, _) in kept { for packed in sample.features { documentFrequency[Int(packed >> Self.countBits)] += 1 } }
        let idf = documentFrequency.map { Float(log(Double(1 + kept.count) / Double(1 + $0)) + 1) }
        var texts = SparseTexts()
        for (sample, label) in kept {
            let buckets = sample.features.map { $0 >> Self.countBits }
            var values = sample.features.map { StyleModel.logTable[Int($0 & ((1 << Self.countBits) - 1))] * idf[Int($0 >> Self.countBits)] }
            let norm = values.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
            if norm > 0 { values = values.map { $0 / norm } }
            texts.append(buckets: buckets, values: values, label: label)
        }

        // Held-out decisions: each fold's texts scored by a model fitted without them. A vendor
        // whose every model is in the fold is absent for its texts, which are left out.
        struct Scored { var decisions: [Double]; var words: Int; var truth: Int?; var isHuman: Bool }
        // The folds' models and the final one are fitted in parallel (each on its own, in a fixed
        // order: the same for every thread count).
        let folds = Self.folds
        let (regularization, epochs) = (options.regularization, options.epochs)
        let training = texts
        let models = Parallel.map(count: folds + 1, threads: threads, makeState: { () }) { _, fold -> LogisticRegression in
            var model = LogisticRegression(classes: classCount, alpha: regularization, epochs: epochs)
            model.fit(training, members: kept.indices.filter { fold == folds || kept[$0].0.fold != fold })
            return model
        }
        var scored: [Scored] = []
        for fold in 0..<folds {
            let present = Set(kept.indices.filter { kept[$0].0.fold != fold }.map { kept[$0].1 })
            for text in kept.indices where kept[text].0.fold == fold {
                let (sample, label) = kept[text]
                let isHuman = sample.vendor == nil
                guard present.contains(label), !hasHuman || present.contains(vendorCount) else { continue }
                var decisions = models[fold].decisions(texts, text: text)
                for c in 0..<classCount where !present.contains(c) { decisions[c] = -.infinity }
                scored.append(Scored(decisions: decisions, words: sample.words, truth: isHuman ? nil : label, isHuman: isHuman))
            }
        }
        let final = models[folds]

        func bestVendor(_ s: Scored) -> Int { (0..<vendorCount).max { s.decisions[$0] < s.decisions[$1] || (s.decisions[$0] == s.decisions[$1] && $0 > $1) } ?? 0 }
        func z(_ s: Scored) -> Double { s.decisions[bestVendor(s)] - s.decisions[vendorCount] }
        func bucketOf(_ words: Int) -> Int { (Self.lengthBounds.lastIndex { words >= $0 }) ?? 0 }

        // Per length bucket, the held-out vendor accuracy.
        let references = scored.filter { !$0.isHuman }
        var accuracy = [Double](repeating: 0, count: Self.lengthBounds.count)
        var referenceCount = [Int](repeating: 0, count: Self.lengthBounds.count)
        for s in references {
            let b = bucketOf(s.words)
            referenceCount[b] += 1
            if bestVendor(s) == s.truth { accuracy[b] += 1 }
        }
        for b in accuracy.indices { accuracy[b] = referenceCount[b] > 0 ? accuracy[b] / Double(referenceCount[b]) : 0 }
        /// The z that at most the rate's share of held-out human texts of `minimumWords` or more reach.
        func threshold(from minimumWords: Int) -> Double {
            let negatives = scored.filter { $0.isHuman && $0.words >= minimumWords }.map(z).sorted()
            guard !negatives.isEmpty else { return .infinity }
            let allowed = Int((Double(negatives.count) * options.humanFalsePositiveRate).rounded(.down))
            return allowed == 0 ? negatives[negatives.count - 1].nextUp : negatives[negatives.count - allowed]
        }
        // The shortest length whose bucket holds 20 held-out references or more and from which
        // every bucket with enough held-out texts passes `holds(bucket, length)`.
        func shortestLength(where holds: (Int, Int) -> Bool) -> Int {
            for (start, bound) in Self.lengthBounds.enumerated() where referenceCount[start] >= 20 {
                if (start..<Self.lengthBounds.count).allSatisfy({ holds($0, bound) }) { return bound }
            }
            return StyleModel.noLength
        }
        // Vendors are named from the length with the vendor accuracy asked for; texts are called
        // model-written from the length where, at the threshold set on the human texts of that
        // length or more, each bucket has at most twice the rate of human texts called
        // model-written (a bucket of short human texts can exceed it when the longer ones are
        // below it). The two are apart: an index whose vendors read alike can still tell model
        // text from human text.
        let vendorMinimum = shortestLength { b, _ in referenceCount[b] < 20 || accuracy[b] >= options.minimumAccuracy }
        let limits = hasHuman ? Dictionary(uniqueKeysWithValues: Self.lengthBounds.map { ($0, threshold(from: $0)) }) : [:]
        let minimumWords = !hasHuman ? vendorMinimum : shortestLength { b, bound in
            let limit = limits[bound] ?? .infinity
            let humans = scored.filter { $0.isHuman && bucketOf($0.words) == b }
            let falsePositives = Double(humans.filter { z($0) >= limit }.count) / Double(max(1, humans.count))
            return humans.count < 50 || falsePositives <= 2 * options.humanFalsePositiveRate
        }
        let vendorMinimumWords = max(vendorMinimum, minimumWords)
        let eligible = scored.filter { $0.words >= minimumWords }

        let vendorScale = Self.fitScale(scored.filter { !$0.isHuman && $0.words >= vendorMinimumWords }.map { s in (Array(s.decisions.prefix(vendorCount)), s.truth ?? 0) })
        var slope = 0.0, offset = 0.0, humanThreshold = Double.infinity, auroc: Double? = nil
        if hasHuman {
            let positives = eligible.filter { !$0.isHuman }.map(z)
            let negatives = eligible.filter(\.isHuman).map(z).sorted()
            (slope, offset) = Self.fitLogistic(positives: positives, negatives: negatives)
            humanThreshold = threshold(from: minimumWords)
            if !negatives.isEmpty && !positives.isEmpty { auroc = Self.auroc(positives: positives, negatives: negatives) }
        }
        var report = StyleCalibrationReport(folds: Self.folds, references: references.count, humans: scored.count - references.count,
                                            buckets: [], modelWrittenAUROC: auroc)
        for (b, bound) in Self.lengthBounds.enumerated() {
            let inBucket = scored.filter { bucketOf($0.words) == b }
            let humans = inBucket.filter(\.isHuman)
            let models = inBucket.filter { !$0.isHuman }
            report.buckets.append(.init(
                minimumWords: bound, references: models.count, vendorAccuracy: accuracy[b], humans: humans.count,
                humanFalsePositives: hasHuman && !humans.isEmpty ? Double(humans.filter { z($0) >= humanThreshold }.count) / Double(humans.count) : 0,
                modelWrittenRecall: hasHuman && !models.isEmpty ? Double(models.filter { z($0) >= humanThreshold }.count) / Double(models.count) : 0))
        }

        // Per bucket: each class's weight, then the bucket's idf in the last lane, as signed bytes
        // in units of each lane's largest magnitude / 127.
        var laneScales = [Double](repeating: 0, count: StyleModel.classStride)
        for c in 0..<classCount {
            laneScales[c] = (0..<StyleFeatures.bucketCount).reduce(0.0) { max($0, abs(final.weight(bucket: $1, class: c))) } / 127
        }
        laneScales[StyleModel.classStride - 1] = Double(idf.max() ?? 1) / 127
        var weights = [UInt8](repeating: 0, count: StyleFeatures.bucketCount * StyleModel.classStride)
        func quantized(_ value: Double, lane: Int) -> UInt8 {
            let scale = laneScales[lane]
            return UInt8(bitPattern: scale > 0 ? Int8(max(-127, min(127, (value / scale).rounded()))) : 0)
        }
        for bucket in 0..<StyleFeatures.bucketCount {
            let row = bucket * StyleModel.classStride
            for c in 0..<classCount { weights[row + c] = quantized(final.weight(bucket: bucket, class: c), lane: c) }
            weights[row + StyleModel.classStride - 1] = quantized(Double(idf[bucket]), lane: StyleModel.classStride - 1)
        }
        let header = StyleModel.Header(
            version: StyleModel.version, featureBits: StyleFeatures.bits, vendors: classVendors, hasHumanClass: hasHuman,
            biases: final.biases, laneScales: laneScales, vendorScale: vendorScale, modelWrittenSlope: slope, modelWrittenOffset: offset,
            humanThreshold: humanThreshold.isFinite ? humanThreshold : .greatestFiniteMagnitude,
            humanFalsePositiveRate: options.humanFalsePositiveRate, minimumWords: minimumWords, vendorMinimumWords: vendorMinimumWords,
            calibration: report, phrases: [])
        return (header, weights, hasHuman ? phraseCandidates() : [])
    }

    /// Buckets found in at least 1% of references and most over-represented there against the
    /// human texts (ratio of document rates, one pseudo-document each), best first.
    private func phraseCandidates() -> [UInt32] {
        let references = Double(max(1, referenceTexts)), humans = Double(max(1, humanTexts))
        var ranked: [(lift: Double, bucket: UInt32)] = []
        for bucket in 0..<StyleFeatures.bucketCount where Double(referenceDocumentFrequency[bucket]) >= 0.01 * references {
            let lift = (Double(referenceDocumentFrequency[bucket]) + 1) / (references + 1) / ((Double(humanDocumentFrequency[bucket]) + 1) / (humans + 1))
            ranked.append((lift, UInt32(bucket)))
        }
        ranked.sort { $0.lift != $1.lift ? $0.lift > $1.lift : $0.bucket < $1.bucket }
        return ranked.prefix(options.phraseCount * 2).map(\.bucket)
    }

    /// Share of human texts holding `bucket`.
    func humanRate(of bucket: UInt32) -> Double { Double(humanDocumentFrequency[Int(bucket)]) / Double(max(1, humanTexts)) }

    /// The scale β of softmax(β · decision) that maximises the likelihood of the true vendors
    /// (golden-section search over log β; the log-likelihood is concave in β).
    static func fitScale(_ data: [(decisions: [Double], truth: Int)]) -> Double {
        guard !data.isEmpty else { return 1 }
        func loss(_ logScale: Double) -> Double {
            let scale = exp(logScale)
            var total = 0.0
            for (decisions, truth) in data {
                let best = decisions.filter(\.isFinite).max() ?? 0
                let sum = decisions.reduce(0.0) { $1.isFinite ? $0 + exp(($1 - best) * scale) : $0 }
                total += log(sum) - (decisions[truth] - best) * scale
            }
            return total
        }
        var low = log(1e-5), high = log(10.0)
        let ratio = (5.0.squareRoot() - 1) / 2
        for _ in 0..<60 {
            let a = high - ratio * (high - low), b = low + ratio * (high - low)
            if loss(a) <= loss(b) { high = b } else { low = a }
        }
        return exp((low + high) / 2)
    }

    /// Logistic regression of positive against negative on one statistic, each side weighing
    /// one half (equal priors), by Newton's method; returns (slope, offset).
    static func fitLogistic(positives: [Double], negatives: [Double]) -> (Double, Double) {
        guard !positives.isEmpty, !negatives.isEmpty else { return (0, 0) }
        let data = positives.map { ($0, 1.0, 0.5 / Double(positives.count)) } + negatives.map { ($0, 0.0, 0.5 / Double(negatives.count)) }
        var slope = 0.0, offset = 0.0
        for _ in 0..<50 {
            var g0 = 0.0, g1 = 0.0, h00 = 1e-6, h01 = 0.0, h11 = 1e-6
            for (x, y, w) in data {
                let p = 1 / (1 + exp(-(slope * x + offset)))
                let r = w * (p - y), v = w * p * (1 - p)
                g0 += r * x; g1 += r
                h00 += v * x * x; h01 += v * x; h11 += v
            }
            let determinant = h00 * h11 - h01 * h01
            guard determinant > 0 else { break }
            slope -= (h11 * g0 - h01 * g1) / determinant
            offset -= (h00 * g1 - h01 * g0) / determinant
        }
        return (slope, offset)
    }

    /// The probability that a positive scores above a negative (ties count half).
    static func auroc(positives: [Double], negatives: [Double]) -> Double {
        let sorted = negatives.sorted()
        var total = 0.0
        for value in positives {
            var low = 0, high = sorted.count
            while low < high { let mid = (low + high) / 2; if sorted[mid] < value { low = mid + 1 } else { high = mid } }
            var equal = low
            while equal < sorted.count, sorted[equal] == value { equal += 1 }
            total += Double(low) + 0.5 * Double(equal - low)
        }
        return total / Double(positives.count * sorted.count)
    }
}
