import Foundation

/// How strong the evidence of an alignment is between a reference and a text that is not a copy
/// of it, and so how often a given score arises by chance: the calibration of every verdict.
///
/// The index build scores a null sample against the index (`NullSample`): each sampled reference
/// is matched against the references of other vendors, leaving itself out of the k-gram
/// frequencies, and its best score kept. Those texts answer the same prompts as references of
/// other models, use the same stock phrases and share their topics: the hardest unrelated texts a
/// corpus holds.
///
/// The false-match probability of a score s is the share of null texts scoring s or more: the
/// empirical share (with one pseudo-count) up to the start of the sample's upper tail, and above
/// it an exponential tail fitted to the tail's excesses (peaks over a threshold, maximum
/// likelihood), so that rates below one in the sample size can be estimated. Never less than a
/// prior, `exp(-fallbackRate * score)`: an index whose references answer no prompt in common
/// (so that its null sample shares almost nothing) cannot vouch that a passage of 20 words
/// is a copy; the prior asks for 28 matched tokens at a rate of 0.001.
///
/// The chance of a score depends on the length of the text: a text of 50 words shares at most 50
/// with a reference, and has fewer places to share a passage by chance than one of 500. When the
/// null texts' lengths are known, a text's probability is read from the null texts of its length
/// class (`lengthBounds`, in tokens) where that class holds `minimumClassSize` of them, and from
/// the whole sample otherwise.
public struct NullModel: Sendable, Equatable {
    /// Best scores of the null texts, ascending.
    public let scores: [Double]
    /// Each null text's length in tokens, in the order of `scores` (empty when unknown).
    public let lengths: [Int]
    /// The model of each length class with enough null texts (nil: the whole sample's).
    public let byLength: [NullModel?]
    /// Scores above this are in the fitted tail.
    public let tailStart: Double
    /// Share of the null texts in the tail.
    public let tailShare: Double
    /// Rate of the exponential tail, per unit of score.
    public let tailRate: Double

    /// Share of the null sample in the fitted tail (its top 5%, and at least `minimumTail` texts).
    static let tailFraction = 0.05
    static let minimumTail = 10
    /// The prior's rate: with fewer scored null texts than `minimumTail` (an index of a handful of
    /// references) it stands in for the fit, and it bounds the fit from below.
    static let fallbackRate = 0.25

    /// Upper bounds (exclusive) of the length classes, in tokens; the last class is unbounded.
    public static let lengthBounds = [64, 128, 256]
    /// Null texts a length class needs for a model of its own: a tail of 20 to fit.
    static let minimumClassSize = 400

    /// A model of scores of null texts of unknown lengths.
    public init(scores unsorted: [Double]) {
        self.init(sorted: unsorted.sorted(), lengths: [], byLength: [])
    }

    /// A model of null texts' scores and lengths (tokens), with a model per length class.
    public init(scores: [Double], lengths: [Int]) {
        precondition(scores.count == lengths.count)
        let pairs = zip(scores, lengths).sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
        var classes = [[Double]](repeating: [], count: Self.lengthBounds.count + 1)
        for (score, length) in pairs { classes[Self.lengthClass(length)].append(score) }
        self.init(sorted: pairs.map(\.0), lengths: pairs.map(\.1),
                  byLength: classes.map { $0.count >= Self.minimumClassSize ? NullModel(sorted: $0, lengths: [], byLength: []) : nil })
    }

    static func lengthClass(_ tokens: Int) -> Int {
        lengthBounds.firstIndex { tokens < $0 } ?? lengthBounds.count
    }

    private init(sorted: [Double], lengths: [Int], byLength: [NullModel?]) {
        scores = sorted
        self.lengths = lengths
        self.byLength = byLength
        let tailCount = max(Self.minimumTail, Int((Double(sorted.count) * Self.tailFraction).rounded(.up)))
        let excessesFrom = sorted.count - tailCount
        guard excessesFrom > 0 else {
            tailStart = sorted.last ?? 0
            tailShare = sorted.isEmpty ? 1 : 1 / Double(sorted.count + 1)
            tailRate = Self.fallbackRate
            return
        }
        let start = sorted[excessesFrom - 1]
        let excesses = sorted[excessesFrom...].map { $0 - start }.filter { $0 > 0 }
        tailStart = start
        tailShare = Double(excesses.count) / Double(sorted.count)
        let total = excesses.reduce(0, +)
        tailRate = total > 0 && excesses.count >= Self.minimumTail ? Double(excesses.count) / total : Self.fallbackRate
    }

    /// The estimated share of unrelated texts whose evidence is `score` or more.
    public func falseMatchProbability(_ score: Double) -> Double {
        max(fitted(score), min(1, exp(-Self.fallbackRate * score)))
    }

    /// The estimated share of unrelated texts of `documentTokens` tokens whose evidence is
    /// `score` or more: from the texts of that length class when it has a model.
    public func falseMatchProbability(_ score: Double, documentTokens: Int) -> Double {
        model(forLength: documentTokens).falseMatchProbability(score)
    }

    /// The model that texts of `tokens` tokens are calibrated with.
    public func model(forLength tokens: Int) -> NullModel {
        byLength.isEmpty ? self : byLength[Self.lengthClass(tokens)] ?? self
    }

    private func fitted(_ score: Double) -> Double {
        if score > tailStart {
            return min(1, tailShare * exp(-tailRate * (score - tailStart)))
        }
        // Null texts with at least this score: the first index whose score is not below it.
        var low = 0
        var high = scores.count
        while low < high {
            let middle = (low + high) / 2
            if scores[middle] < score { low = middle + 1 } else { high = middle }
        }
        return min(1, Double(scores.count - low + 1) / Double(scores.count + 1))
    }

    /// The lowest score whose false-match probability is at most `rate`.
    public func threshold(forRate rate: Double) -> Double {
        let prior = log(1 / rate) / Self.fallbackRate
        if rate < tailShare || scores.isEmpty {
            return max(prior, tailStart + log(tailShare / rate) / tailRate)
        }
        // Empirical part: the smallest sample score s with share(≥ s) ≤ rate.
        for score in scores where fitted(score) <= rate { return max(prior, score) }
        return max(prior, tailStart)
    }
}
