/// Runs the three detectors on documents against one reference index.
///
/// A `Matcher` is immutable and shared by all workers; each worker owns a `Matcher.Scratch` with
/// the buffers that make matching allocation-free once warm.
public struct Matcher: Sendable {
    public let index: ReferenceIndex
    public let options: MatchOptions
    public let fingerprinter: Fingerprinter
    public let markers: MarkerDetector?

    public init(index: ReferenceIndex, options: MatchOptions, markers: [MarkerPhrase]) {
        self.index = index
        self.options = options
        fingerprinter = Fingerprinter(parameters: index.parameters)
        self.markers = options.markers.enabled && !markers.isEmpty
            ? MarkerDetector(phrases: markers, tokenizer: fingerprinter.tokenizer) : nil
    }

    /// Per-worker buffers.
    public struct Scratch {
        var fingerprint = DocumentFingerprint()
        var verifier = ContainmentVerifier()
        var hashes: [UInt64] = []
        var hits: [(group: UInt32, weight: Double)] = []
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
        guard fingerprint.tokens.count > 0 else { return verdict }

        var candidates = containmentCandidates(fingerprint, scratch: &scratch)
        let nearCandidates = nearDuplicateCandidates(fingerprint)
        for group in nearCandidates where !candidates.contains(group) { candidates.append(group) }

        for group in candidates {
            if let found = verify(group: group, fingerprint: fingerprint, verifier: &scratch.verifier) {
                verdict.matches.append(found)
            }
        }
        verdict.matches.sort { lhs, rhs in
            if lhs.matchedWords != rhs.matchedWords { return lhs.matchedWords > rhs.matchedWords }
            if lhs.jaccard != rhs.jaccard { return lhs.jaccard > rhs.jaccard }
            return lhs.group < rhs.group
        }
        if verdict.matches.count > options.maximumMatchesReported {
            verdict.matches.removeSubrange(options.maximumMatchesReported...)
        }
        return verdict
    }

    /// How many k-grams ahead the posting filter's words are fetched.
    static let prefetchDistance = 16

    /// Groups ranked by rarity-weighted shared winnowed fingerprints: a k-gram found in d
    /// reference groups adds 1/d to each (common k-grams are not in the postings at all).
    func containmentCandidates(_ fingerprint: DocumentFingerprint, scratch: inout Scratch) -> [Int] {
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
        scratch.hits.removeAll(keepingCapacity: true)
        var previous: UInt64? = nil
        for hash in scratch.hashes where hash != previous {
            previous = hash
            let groups = index.postings(for: hash)
            guard !groups.isEmpty else { continue }
            let weight = 1 / Double(groups.count)
            for group in groups { scratch.hits.append((group, weight)) }
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
            if end - start >= options.containment.minimumHits { ranked.append((Int(scratch.hits[start].group), weight)) }
            start = end
        }
        ranked.sort { $0.weight != $1.weight ? $0.weight > $1.weight : $0.group < $1.group }
        return ranked.prefix(options.containment.maximumCandidates).map(\.group)
    }

    /// Groups that share at least one LSH band with the document.
    func nearDuplicateCandidates(_ fingerprint: DocumentFingerprint) -> [Int] {
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

    func verify(group: Int, fingerprint: DocumentFingerprint, verifier: inout ContainmentVerifier) -> ReferenceMatch? {
        let referenceTokens = index.tokens(ofGroup: group)
        guard !referenceTokens.isEmpty else { return nil }
        let jaccard = fingerprint.signature.isEmpty ? 0 : fingerprint.signature.withUnsafeBufferPointer {
            MinHasher.similarity($0, index.signature(ofGroup: group))
        }
        let outcome = verifier.verify(document: fingerprint, reference: referenceTokens, shingler: fingerprinter.shingler,
                                      minimumRun: options.containment.minimumRun, isCommon: index.isCommon)
        let evidenceTokens = index.evidenceTokenCount(ofGroup: group)
        let containment = evidenceTokens > 0 ? min(1, Double(outcome.referenceTokensCovered) / Double(evidenceTokens)) : 0
        let coverage = Double(outcome.documentTokensCovered) / Double(fingerprint.tokens.count)
        let passages = Self.passages(of: outcome.runs)
        let longestPassage = passages.map(\.count).max() ?? 0
        let near = options.nearDuplicate
        let isNear = near.enabled && jaccard >= near.threshold
            && fingerprint.tokens.count >= near.minimumTokens && referenceTokens.count >= near.minimumTokens
            && coverage >= near.minimumDocumentCoverage && longestPassage >= near.minimumSpanWords
        let contained = options.containment
        let matchedWords = outcome.documentTokensCovered
        let isLongCopy = matchedWords >= contained.minimumMatchedWords && longestPassage >= contained.minimumSpanWords
            && (containment >= contained.minimumContainment || coverage >= contained.minimumDocumentCoverage)
        let isWholeDocumentCopy = matchedWords >= contained.wholeDocumentMinimumWords && coverage >= contained.wholeDocumentCoverage
        let isContained = contained.enabled && (isLongCopy || isWholeDocumentCopy)
        guard isNear || isContained else { return nil }
        return ReferenceMatch(group: group, jaccard: jaccard, containment: containment, documentCoverage: coverage,
                              matchedWords: matchedWords,
                              spans: byteSpans(of: passages, tokens: fingerprint.tokens),
                              referenceRuns: outcome.referenceRuns,
                              isNearDuplicate: isNear, isContained: isContained)
    }

    /// Matched token runs joined into passages, in order: overlapping runs, and runs separated by
    /// at most `passageGap` unmatched tokens (edited words), are one passage.
    static func passages(of runs: [Range<Int>]) -> [Range<Int>] {
        // Three (chosen on scripts/eval-quality.sh): two neighbouring edited words, or one edited
        // word that the tokenizer splits in two, leave a copy one passage.
        let passageGap = 3
        var merged: [Range<Int>] = []
        for run in runs.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = merged.last, run.lowerBound - last.upperBound <= passageGap {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, run.upperBound)
            } else {
                merged.append(run)
            }
        }
        return merged
    }

    /// Byte spans of the passages of matched token runs (see `passages(of:)`), in order.
    public func spans(of runs: [Range<Int>], tokens: TokenSequence) -> [Range<Int>] {
        byteSpans(of: Self.passages(of: runs), tokens: tokens)
    }

    private func byteSpans(of passages: [Range<Int>], tokens: TokenSequence) -> [Range<Int>] {
        passages.map { Int(tokens.starts[$0.lowerBound])..<Int(tokens.ends[$0.upperBound - 1]) }
    }
}
