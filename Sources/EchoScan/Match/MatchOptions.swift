/// Settings of the detectors, read from the pipeline file (`detectors:`).
///
/// A reference is reported as found in a document when the evidence of their alignment (see
/// `EvidenceAligner`) is stronger than a text unrelated to the reference would show more often
/// than `maximumFalseMatchRate`, as estimated on the null sample that the index build kept
/// (`NullModel`). The other settings only say where candidates come from and how matches are
/// labelled.
public struct MatchOptions: Sendable, Equatable {
    /// The near-duplicate detector: MinHash LSH candidates and their Jaccard threshold.
    public struct NearDuplicate: Sendable, Equatable {
        public var enabled = true
        /// Estimated Jaccard similarity at or above which a match is labelled a near-duplicate
        /// (and LSH finds its reference as a candidate).
        public var threshold = 0.8
        /// Documents and references shorter than this (in tokens) are never near-duplicates.
        public var minimumTokens = 20
    }

    /// The containment detector: candidate groups by shared rare k-grams, aligned and weighed.
    public struct Containment: Sendable, Equatable {
        public var enabled = true
        /// Candidates (ranked by rarity-weighted shared fingerprints) aligned per document.
        public var maximumCandidates = 8
        /// Distinct shared fingerprints a candidate needs before it is aligned.
        public var minimumHits = 2
    }

    /// The marker-phrase detector.
    public struct Markers: Sendable, Equatable {
        public var enabled = true
        /// Whether marker phrases alone flag a document (they are always reported).
        public var flag = true
    }

    /// The style detector: whether it runs and whether it flags.
    public struct Style: Sendable, Equatable {
        /// Score every document long enough with the index's style model (when it has one).
        public var enabled = true
        /// Whether style alone flags a document: when its model-written statistic reaches the
        /// threshold that 1% of the build's held-out human texts reach. Style evidence is a
        /// likelihood, not a copy, so by default it is reported and never flags.
        public var flag = false
    }

    /// The share of documents unrelated to a reference that may be reported as containing it:
    /// the estimated false-match probability a match must not exceed.
    public var maximumFalseMatchRate = 0.001
    public var nearDuplicate = NearDuplicate()
    public var containment = Containment()
    public var markers = Markers()
    public var style = Style()
    /// Matches kept per document in the manifest, best first.
    public var maximumMatchesReported = 5

    public init() {}
}
