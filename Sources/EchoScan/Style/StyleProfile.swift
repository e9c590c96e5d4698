import Foundation

/// What the style detector adds to a shard's counts: how many documents got a verdict, how many
/// read as model-written, by the most probable vendor, and in how many documents each of the
/// model's phrases occurs. Added up over units and shards (`summary.json`'s `counts.style`).
public struct StyleCounts: Codable, Sendable, Equatable {
    /// Documents with a style verdict (long enough).
    public var documents = 0
    /// Of those, documents at or above the model's model-written threshold.
    public var modelWritten = 0
    /// Model-written documents by their most probable vendor (every document with a verdict when
    /// the model gives no model-written score), `unattributed` when too short to name one.
    public var byVendor: [String: Int] = [:]
    /// Documents with a verdict holding each phrase.
    public var phrases: [String: Int] = [:]

    enum CodingKeys: String, CodingKey { case documents, modelWritten = "model_written", byVendor = "by_vendor", phrases }

    public init() {}

    mutating func add(_ other: StyleCounts) {
        documents += other.documents
        modelWritten += other.modelWritten
        byVendor.merge(other.byVendor, uniquingKeysWith: +)
        phrases.merge(other.phrases, uniquingKeysWith: +)
    }

    /// Adds what `tally` counted.
    mutating func add(_ tally: StyleTally, model: StyleModel) {
        documents += tally.documents
        modelWritten += tally.modelWritten
        for (vendor, count) in tally.byVendor.enumerated() where count > 0 {
            byVendor[vendor < model.header.vendors.count ? model.header.vendors[vendor] : StyleProfile.unattributed, default: 0] += count
        }
        for (number, count) in tally.phrases.enumerated() where count > 0 {
            phrases[model.header.phrases[number].text, default: 0] += count
        }
    }
}

/// `StyleCounts` as a shard's documents are scanned, by vendor and phrase number rather than name
/// (no string is hashed per document), added to the counts once per shard.
struct StyleTally {
    var documents = 0
    var modelWritten = 0
    /// By the model's vendor number; the last, unattributed.
    var byVendor: [Int]
    /// By the model's phrase number.
    var phrases: [Int]

    init(model: StyleModel) {
        byVendor = Array(repeating: 0, count: model.header.vendors.count + 1)
        phrases = Array(repeating: 0, count: model.header.phrases.count)
    }

    mutating func count(_ verdict: StyleVerdict, model: StyleModel) {
        documents += 1
        let isModelWritten = verdict.z.map { $0 >= model.header.humanThreshold } ?? true
        if isModelWritten {
            if verdict.z != nil { modelWritten += 1 }
            byVendor[verdict.mostProbableVendor ?? model.header.vendors.count] += 1
        }
        for number in verdict.phrases { phrases[number] += 1 }
    }
}

/// The style profile of a shard or a scan, as summary.json, the report and `echoscan diff` show
/// it: the share of documents per vendor style, with 95% Wilson intervals, and the phrases most
/// over-represented against the build's human text.
public struct StyleProfile: Codable, Sendable, Equatable {
    /// The share of documents of one style (human, a vendor, unattributed) with its 95% Wilson interval.
    public struct Share: Codable, Sendable, Equatable {
        public var style: String
        public var documents: Int
        public var share: Double
        public var low: Double
        public var high: Double
    }

    /// A phrase over-represented in the documents against the human text: its lift over the human document rate.
    public struct Phrase: Codable, Sendable, Equatable {
        public var phrase: String
        public var documents: Int
        /// The phrase's document rate here over its rate in the build's human text.
        public var lift: Double
    }

    public var documents: Int
    /// `human` (when the model scores model-written text), each vendor in the model's order, then
    /// `unattributed` (when the model names vendors only in longer texts than it gives verdicts).
    public var shares: [Share]
    public var phrases: [Phrase]

    public static let phrasesShown = 15
    /// The style of model-written documents too short for a vendor.
    public static let unattributed = "unattributed"

    public init(counts: StyleCounts, header: StyleModel.Header) {
        documents = counts.documents
        var styles: [(String, Int)] = header.vendors.map { ($0, counts.byVendor[$0, default: 0]) }
        if header.scoresModelWritten { styles.insert(("human", counts.documents - counts.modelWritten), at: 0) }
        if header.vendorMinimumWords > header.minimumWords { styles.append((Self.unattributed, counts.byVendor[Self.unattributed, default: 0])) }
        shares = styles.map { style, count in
            let (low, high) = Self.wilson(count, counts.documents)
            return Share(style: style, documents: count, share: counts.documents > 0 ? Double(count) / Double(counts.documents) : 0,
                         low: low, high: high)
        }
        let total = Double(max(1, counts.documents))
        let humanRates = Dictionary(header.phrases.map { ($0.text, $0.humanRate) }, uniquingKeysWith: { first, _ in first })
        phrases = counts.phrases.map { phrase, count in
            Phrase(phrase: phrase, documents: count, lift: (Double(count) / total) / max(humanRates[phrase] ?? 0, 1 / total))
        }
        .sorted { $0.lift != $1.lift ? $0.lift > $1.lift : $0.phrase < $1.phrase }
        .prefix(Self.phrasesShown).map { $0 }
    }

    /// The 95% Wilson score interval of `successes` in `trials`.
    static func wilson(_ successes: Int, _ trials: Int) -> (Double, Double) {
        guard trials > 0 else { return (0, 1) }
        let n = Double(trials), p = Double(successes) / n, z = 1.959964
        let centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        let half = z * (p * (1 - p) / n + z * z / (4 * n * n)).squareRoot() / (1 + z * z / n)
        return (max(0, centre - half), min(1, centre + half))
    }

    /// The vendor whose style most documents have (nil when none reads as model-written).
    public var leadingVendor: String? {
        shares.filter { $0.style != "human" && $0.documents > 0 }.max { $0.documents != $1.documents ? $0.documents < $1.documents : $0.style > $1.style }?.style
    }
}
