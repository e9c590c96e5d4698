/// Thresholds of the detectors, read from the pipeline file (`detectors:`).
public struct MatchOptions: Sendable, Equatable {
    public struct NearDuplicate: Sendable, Equatable {
        public var enabled = true
        /// Estimated Jaccard similarity at or above which a document is a near-duplicate.
        public var threshold = 0.8
        /// Documents and references shorter than this (in tokens) are never near-duplicates:
        /// "True" equal to "True" proves nothing.
        public var minimumTokens = 20
        /// Share of the document that the exact verification must match outside common and
        /// prompt k-grams: two answers that both copy their prompt's text are similar without
        /// either being the other's source.
        public var minimumDocumentCoverage = 0.5
        /// Words in the longest matched passage (edits of up to three words bridged) that a
        /// near-duplicate needs, as a contained copy does (`Containment.minimumSpanWords`).
        public var minimumSpanWords = 35
    }

    public struct Containment: Sendable, Equatable {
        public var enabled = true
        /// Share of the reference found in the document (a pasted or embedded copy).
        public var minimumContainment = 0.7
        /// Share of the document made of the reference (a truncated copy).
        public var minimumDocumentCoverage = 0.6
        /// Fewer matched words than this never flag, whatever the shares.
        public var minimumMatchedWords = 25
        /// Words in the longest matched passage (runs joined across edits of up to three words)
        /// that a contained copy needs: another model's answer to the same prompt shares
        /// scattered runs, a copy shares whole passages. Thresholds chosen on five corpora that
        /// scripts/eval-quality.sh draws with different seeds (README, Quality).
        public var minimumSpanWords = 35
        /// A document this much made of the reference is a copy (a short truncated one) ...
        public var wholeDocumentCoverage = 0.95
        /// ... from this many matched words, without the longest-passage condition.
        public var wholeDocumentMinimumWords = 18
        /// Shortest run of consecutive equal tokens that starts an alignment; shorter isolated runs
        /// are the phrases that answers to one prompt share (chosen on scripts/eval-quality.sh).
        public var minimumRun = 8
        /// Candidates (ranked by rarity-weighted shared fingerprints) verified per document.
        public var maximumCandidates = 8
        /// Distinct shared fingerprints a candidate needs before it is verified.
        public var minimumHits = 2
    }

    public struct Markers: Sendable, Equatable {
        public var enabled = true
        /// Whether marker phrases alone flag a document (they are always reported).
        public var flag = true
    }

    public var nearDuplicate = NearDuplicate()
    public var containment = Containment()
    public var markers = Markers()
    /// Matches kept per document in the manifest, best first.
    public var maximumMatchesReported = 5

    public init() {}
}
