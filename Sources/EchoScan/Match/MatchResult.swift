/// One reference found in a document, with the evidence for it.
///
/// Every reported match is evidence that the document contains (part of) the reference: its
/// false-match probability is at most the pipeline's `max_false_match_rate`.
public struct ReferenceMatch: Sendable, Equatable {
    public var group: Int
    /// Evidence of the alignment: the matched tokens of its best run of abutting passages less its
    /// unmatched ones, plus what each further run holds beyond twice the shortest (`EvidenceAligner`).
    public var score: Double
    /// Estimated share of texts unrelated to the reference with at least this score (`NullModel`).
    public var falseMatchProbability: Double
    /// MinHash estimate of the Jaccard similarity of the two k-gram sets.
    public var jaccard: Double
    /// Share of the reference's tokens found in the document.
    public var containment: Double
    /// Share of the document's tokens that belong to the reference.
    public var documentCoverage: Double
    public var matchedWords: Int
    /// UTF-8 byte ranges of the matched passages in the document's text, in order.
    public var spans: [Range<Int>]
    /// The same passages as token ranges of the reference (for `explain`).
    public var referenceRuns: [Range<Int>]
    /// Whether the whole document is a near-duplicate of the reference (estimated Jaccard
    /// similarity at the pipeline's `near_duplicate.threshold`), besides containing it.
    public var isNearDuplicate: Bool
}

/// A self-identification phrase found in a document.
public struct MarkerHit: Sendable, Equatable {
    public var phrase: String
    public var vendor: String
    public var span: Range<Int>
}

/// Everything the detectors found in one document.
public struct DocumentVerdict: Sendable {
    public var tokenCount = 0
    public var matches: [ReferenceMatch] = []
    public var markers: [MarkerHit] = []
    public var flaggedByMarkers = false
    /// The style detector's scores, for a text long enough (see `StyleModel`).
    public var style: StyleVerdict?
    public var flaggedByStyle = false

    public var isNearDuplicate: Bool { matches.contains { $0.isNearDuplicate } }
    public var isContained: Bool { !matches.isEmpty }
    public var isFlagged: Bool { isNearDuplicate || isContained || flaggedByMarkers || flaggedByStyle }

    /// Detector names in a fixed order, as written in the manifest.
    public var detectors: [String] {
        var names: [String] = []
        if isNearDuplicate { names.append("near_duplicate") }
        if isContained { names.append("containment") }
        if !markers.isEmpty && flaggedByMarkers { names.append("marker") }
        if flaggedByStyle { names.append("style") }
        return names
    }
}
