import CEchoScanShims

/// Runs the three detectors on documents against one reference index and its segments.
///
/// A `Matcher` is immutable and shared by all workers; each worker owns a `Matcher.Scratch` with
/// the buffers that make matching allocation-free once warm.
public struct Matcher: Sendable {
    public let index: SegmentedIndex
    public let options: MatchOptions
    public let fingerprinter: Fingerprinter
    public let markers: MarkerDetector?
    /// The calibration of the evidence scores, from the index.
    public let nullModel: NullModel
    /// The style model documents are scored with: the index's, unless the options turn style off.
    public let style: StyleModel?

    public init(index: ReferenceIndex, options: MatchOptions, markers: [MarkerPhrase]) {
        self.init(index: SegmentedIndex(index), options: options, markers: markers)
    }

    public init(index: SegmentedIndex, options: MatchOptions, markers: [MarkerPhrase]) {
        self.index = index
        self.options = options
        fingerprinter = Fingerprinter(parameters: index.parameters)
        nullModel = index.nullModel
        style = options.style.enabled ? index.style : nil
        self.markers = options.markers.enabled && !markers.isEmpty
            ? MarkerDetector(phrases: markers, tokenizer: fingerprinter.tokenizer) : nil
    }

    /// Per-worker buffers.
    public struct Scratch {
        var fingerprint = DocumentFingerprint()
        var aligner = EvidenceAligner()
        /// The candidate reference's tokens, decoded from the index.
        var referenceTokens: [UInt64] = []
        var hashes: [UInt64] = []
        var hits: [(group: UInt32, weight: Double)] = []
        /// The posting lists of a document's distinct k-grams, in the index's mapping.
        var postingLists: [UnsafeBufferPointer<UInt32>] = []
        var style = StyleModel.Scratch()
        public init() {}
    }

    /// Detects model outputs in one text.
    public func match(_ text: UnsafeBufferPointer<UInt8>, scratch: inout Scratch) -> DocumentVerdict {
        var verdict = DocumentVerdict()
        fingerprinter.fingerprint(text, into: &scratch.fingerprint, parts: options.nearDuplicate.enabled ? .all : .winnowed)
        let fingerprint = scratch.fingerprint
        verdict.tokenCount = fingerprint.tokens.count
        if let markers {
            verdict.markers = markers.find(in: fingerprint.tokens)
            verdict.flaggedByMarkers = options.markers.flag && !verdict.markers.isEmpty
        }
        if let style {
            verdict.style = style.score(text, tokens: fingerprint.tokens, scratch: &scratch.style)
            verdict.flaggedByStyle = options.style.flag && (verdict.style?.z ?? -.infinity) >= style.header.humanThreshold
        }
        guard fingerprint.tokens.count > 0 else { return verdict }
        for segment in index.segments.indices {
            for group in candidates(fingerprint, segment: segment, scratch: &scratch) {
                var found = evaluate(group: group, segment: segment, fingerprint: fingerprint, scratch: &scratch)
                found.group += index.firstGroup(ofSegment: segment)
                if found.falseMatchProbability <= options.maximumFalseMatchRate { verdict.matches.append(found) }
            }
        }
        verdict.matches.sort { lhs, rhs in
            if lhs.score != rhs.score { return lhs.score > rhs.score }
            return lhs.group < rhs.group
        }
        if verdict.matches.count > options.maximumMatchesReported {
            verdict.matches.removeSubrange(options.maximumMatchesReported...)
        }
        return verdict
    }

    /// The best evidence score, in the text of one of `group`'s references, of any reference of
    /// another vendor (of any other group where the vendor is unknown): one draw of the null
    /// sample (`NullModel`). Other versions of the same vendor's model are not independent of
    /// it — they often share whole paragraphs — and an index that holds several would otherwise
    /// calibrate its verdicts on them. The sample is drawn within one index file: `group` is a
    /// group of the base segment, matched against the base segment's groups.
    func nullScore(ofGroup group: Int, text: UnsafeBufferPointer<UInt8>, scratch: inout Scratch) -> Double {
        fingerprinter.fingerprint(text, into: &scratch.fingerprint, parts: options.nearDuplicate.enabled ? .all : .winnowed)
        let fingerprint = scratch.fingerprint
        let base = index.base
        let vendor = base.vendorCode(ofGroup: group)
        let unknown = base.metadata.vendors.firstIndex(of: "unknown")
        let excluded: (Int) -> Bool = { other in
            other == group || (vendor != unknown && base.vendorCode(ofGroup: other) == vendor)
        }
        var best = 0.0
        for candidate in candidates(fingerprint, segment: 0, scratch: &scratch, excluding: excluded, leavingOneOut: true) {
            best = max(best, evaluate(group: candidate, segment: 0, fingerprint: fingerprint, scratch: &scratch, leavingOneOut: true).score)
        }
        return best
    }

    /// The groups of one segment worth aligning with (numbered within it): containment
    /// candidates, then near-duplicate ones. With `leavingOneOut`, for a reference of the index
    /// itself, borderline postings count too.
    func candidates(_ fingerprint: DocumentFingerprint, segment: Int, scratch: inout Scratch,
                    excluding excluded: (Int) -> Bool = { _ in false }, leavingOneOut: Bool = false) -> [Int] {
        guard fingerprint.tokens.count > 0 else { return [] }
        let index = self.index.segments[segment]
        var found = containmentCandidates(fingerprint, in: index, scratch: &scratch, excluding: excluded, leavingOneOut: leavingOneOut)
        for group in nearDuplicateCandidates(fingerprint, in: index) where !excluded(group) && !found.contains(group) { found.append(group) }
        return found
    }

    /// How many k-grams ahead the posting filter's words are fetched.
    static let prefetchDistance = 16

    /// Groups ranked by rarity-weighted shared winnowed fingerprints: a k-gram found in d
    /// reference groups adds 1/d to each (common k-grams are not in the postings at all, and
    /// borderline ones only for `leavingOneOut`).
    func containmentCandidates(_ fingerprint: DocumentFingerprint, in index: ReferenceIndex, scratch: inout Scratch,
                               excluding excluded: (Int) -> Bool = { _ in false }, leavingOneOut: Bool = false) -> [Int] {
        guard options.containment.enabled else { return [] }
        // Most look-ups miss. First the index's posting filter alone, keeping each k-gram
        // without branching on the answer (a coin toss for the predictor). Then the full
        // look-up, once per distinct k-gram that passed (a repeated passage counts once).
        scratch.hashes.removeAll(keepingCapacity: true)
        scratch.hashes.append(contentsOf: fingerprint.winnowedHashes)
        let passed = scratch.hashes.withUnsafeMutableBufferPointer { hashes in
            // The filter's words are fetched a few k-grams ahead: screening ran at one cache
            // miss's latency per k-gram, the misses overlapping too little on their own.
            for position in 0..<min(Self.prefetchDistance, hashes.count) { index.prefetchPostingFilter(hashes[position]) }
            var kept = 0
            for position in hashes.indices {
                if position + Self.prefetchDistance < hashes.count { index.prefetchPostingFilter(hashes[position + Self.prefetchDistance]) }
                let hash = hashes[position]
                hashes[kept] = hash
                kept += index.mightHavePostings(hash) ? 1 : 0
            }
            return kept
        }
        scratch.hashes.removeLast(scratch.hashes.count - passed)
        // The look-ups of the k-grams that passed miss the cache twice (directory, then keys):
        // both are fetched for all of them first, so that the misses overlap.
        for hash in scratch.hashes { index.prefetchPostingDirectory(hash) }
        for hash in scratch.hashes { index.prefetchPostingKeys(hash) }
        scratch.hashes.sort()
        // A third miss, the lists' groups: all lists are found first, their groups fetched.
        scratch.postingLists.removeAll(keepingCapacity: true)
        var previous: UInt64? = nil
        for hash in scratch.hashes where hash != previous {
            previous = hash
            let groups = index.postings(for: hash)
            guard let first = groups.baseAddress, !groups.isEmpty else { continue }
            echoscan_prefetch(first)
            scratch.postingLists.append(groups)
        }
        scratch.hits.removeAll(keepingCapacity: true)
        let groupCount = index.groupCount
        for groups in scratch.postingLists {
            let marked = IndexFormat.borderlinePosting
            let counted = leavingOneOut ? groups.count : groups.reduce(0) { $0 + ($1 & marked == 0 ? 1 : 0) }
            guard counted > 0 else { continue }
            let weight = 1 / Double(counted)
            // A group number past the groups (a damaged or crafted file: the open does not read
            // the postings) is skipped; `echoscan index verify` reports it.
            for group in groups where (leavingOneOut || group & marked == 0) && Int(group & ~marked) < groupCount {
                scratch.hits.append((group & ~marked, weight))
            }
        }
        guard !scratch.hits.isEmpty else { return [] }
        // Aggregate per group: sort by group, sum runs.
        scratch.hits.sort { $0.group < $1.group }
        var ranked: [(group: Int, weight: Double)] = []
        var start = 0
        while start < scratch.hits.count {
            var end = start
            var weight = 0.0
            while end < scratch.hits.count, scratch.hits[end].group == scratch.hits[start].group {
                weight += scratch.hits[end].weight
                end += 1
            }
            let group = Int(scratch.hits[start].group)
            if end - start >= options.containment.minimumHits && !excluded(group) { ranked.append((group, weight)) }
            start = end
        }
        ranked.sort { $0.weight != $1.weight ? $0.weight > $1.weight : $0.group < $1.group }
        return ranked.prefix(options.containment.maximumCandidates).map(\.group)
    }

    /// Groups that share at least one LSH band with the document.
    func nearDuplicateCandidates(_ fingerprint: DocumentFingerprint, in index: ReferenceIndex) -> [Int] {
        guard options.nearDuplicate.enabled, fingerprint.tokens.count >= options.nearDuplicate.minimumTokens,
              !fingerprint.signature.isEmpty else { return [] }
        let banding = index.banding
        var found: [Int] = []
        // Each band's filter word is a likely cache miss: all are fetched before the first is read.
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: banding.bands) { hashes in
            fingerprint.signature.withUnsafeBufferPointer { signature in
                for band in 0..<banding.bands {
                    hashes[band] = banding.bandHash(signature, band: band)
                    index.prefetchBandFilter(band: band, hash: hashes[band])
                }
            }
            for band in 0..<banding.bands {
                index.bandMatches(band: band, hash: hashes[band]) { group in
                    if !found.contains(group) { found.append(group) }
                }
            }
        }
        return found.sorted()
    }

    /// Aligns the document with the representative of a segment's group and weighs the evidence;
    /// with `leavingOneOut`, for a reference of the index itself (see `ReferenceIndex.isCommon(bit:)`).
    /// A k-gram is common when its segment says so or a later segment made it so.
    func evaluate(group: Int, segment: Int, fingerprint: DocumentFingerprint, scratch: inout Scratch,
                  leavingOneOut: Bool = false) -> ReferenceMatch {
        let segments = self.index
        let index = segments.segments[segment]
        index.tokens(ofGroup: group, into: &scratch.referenceTokens)
        let referenceTokens = scratch.referenceTokens
        let jaccard = fingerprint.signature.isEmpty || referenceTokens.isEmpty ? 0 : fingerprint.signature.withUnsafeBufferPointer {
            MinHasher.similarity($0, lowBits: index.signature(ofGroup: group))
        }
        let commonStart = index.commonBitStart(ofGroup: group)
        let laterCommon = segments.hasLaterCommon(segment: segment)
        let alignment = referenceTokens.withUnsafeBufferPointer { reference in
            scratch.aligner.align(document: fingerprint, reference: reference, shingler: fingerprinter.shingler,
                                  isCommonAt: { position, hash in
                                      index.isCommon(bit: commonStart + position, leavingOneOut: leavingOneOut)
                                          || laterCommon && segments.isCommonInLaterSegment(hash, segment: segment)
                                  })
        }
        let evidenceTokens = index.evidenceTokenCount(ofGroup: group)
        let near = options.nearDuplicate
        return ReferenceMatch(
            group: group, score: alignment.score, falseMatchProbability: nullModel.falseMatchProbability(alignment.score, documentTokens: fingerprint.tokens.count),
            jaccard: jaccard,
            containment: evidenceTokens > 0 ? min(1, Double(alignment.referenceTokensCovered) / Double(evidenceTokens)) : 0,
            documentCoverage: Double(alignment.documentTokensCovered) / Double(fingerprint.tokens.count),
            matchedWords: alignment.matchedTokens,
            spans: Self.byteSpans(of: alignment.chains.map(\.document), tokens: fingerprint.tokens),
            referenceRuns: alignment.chains.map(\.reference),
            isNearDuplicate: near.enabled && jaccard >= near.threshold
                && fingerprint.tokens.count >= near.minimumTokens && referenceTokens.count >= near.minimumTokens)
    }

    /// UTF-8 byte ranges of token ranges of a text.
    public static func byteSpans(of tokenRanges: [Range<Int>], tokens: TokenSequence) -> [Range<Int>] {
        tokenRanges.map { Int(tokens.starts[$0.lowerBound])..<Int(tokens.ends[$0.upperBound - 1]) }
    }
}
