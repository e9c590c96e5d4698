/// Aligns a document with one candidate reference and measures the evidence that the document
/// holds a copy of it.
///
/// Anchors are the k-grams that the two token sequences share and that carry evidence (not
/// common: no stock phrase, prompt text or background language). Anchors are chained in order on
/// both sides, as MUMmer and minimap2 chain seeds: a link to an earlier anchor may skip up to
/// `maximumGap` document tokens and shift the diagonal by up to `maximumShift` tokens (words
/// inserted or deleted). A chain's score counts the document tokens that it matches — the
/// anchors' tokens and, between two anchors on one diagonal, each token equal to its counterpart
/// (a substituted word leaves its neighbours matched) — less `mismatchCost` for each token left
/// unmatched inside it. So an edited copy, even with a quarter of its words changed, is one long
/// chain, while the phrases that two independent texts share stay short chains of their own.
/// Chains are taken best first, each from anchors no better chain used (reordered sentences and
/// interleaved answers give several chains), down to fragments of two anchors in a row.
/// Chains that abut in the document are one run, however their reference parts are ordered: a
/// text cut into sentences and shuffled is tiled by its sentences, which two independent texts'
/// shared phrases never do. A run's score is its chains' scores less `jumpCost` for each jump
/// between them (what one k-gram gives), a chain that repeats a part of the reference the run
/// already holds adding nothing; runs of `minimumChainScore` or more are the passages of the
/// match. The evidence score of the match is its best run's score plus, for each further run
/// that repeats no counted part of the reference, what it holds beyond twice
/// `minimumChainScore`: separate copied passages add up, while the many short phrases two
/// answers to one prompt share add nothing (plain sums made such answers look like copies).
///
/// The score does not depend on how much of the reference the document holds; `NullModel`
/// turns it into a false-match probability.
struct EvidenceAligner {
    /// Document tokens between the starts of two chained anchors.
    static let maximumGap = 32
    /// Words inserted or deleted between two chained anchors.
    static let maximumShift = 8
    /// What a token left unmatched inside a chain takes from its score, in matched tokens: as
    /// much as a matched one gives, so that a chain grows only where most of its tokens match
    /// (a copy with up to a third of its words edited) and two texts that share sentences
    /// between rewritten ones keep one chain per sentence.
    static let mismatchCost = 1.0
    /// Earlier anchors tried as a link.
    static let lookBack = 32
    /// Positions of a k-gram repeated in the reference that become anchors.
    static let repeatsPerKGram = 8
    /// Runs below this score are not evidence: one shared k-gram is not, two in a row may be.
    static func minimumChainScore(shingleSize: Int) -> Double { Double(2 * shingleSize) }
    /// The shortest chain kept for a run: two anchors in a row.
    static func minimumFragmentScore(shingleSize: Int) -> Double { Double(shingleSize + 1) }
    /// What a jump in the reference between two abutting chains of a run takes from its score:
    /// the k-gram across the joint that the copy no longer has.
    static func jumpCost(shingleSize: Int) -> Double { Double(shingleSize) }

    /// One chain of anchors: a passage of the document aligned with a passage of the reference.
    struct Chain: Equatable {
        var document: Range<Int>
        var reference: Range<Int>
        var score: Double
        var matchedTokens: Int
    }

    struct Alignment {
        /// The passages, in document order.
        var chains: [Chain] = []
        var score = 0.0
        var matchedTokens = 0
        var documentTokensCovered = 0
        var referenceTokensCovered = 0
    }

    // The reference's k-grams: an open-addressing table from hash to its first position, with
    // a chain of later positions; reused across candidates so that alignment allocates nothing.
    private var slots: [UInt64] = []
    private var heads: [Int32] = []
    private var next: [Int32] = []
    private var referenceShingles: [UInt64] = []
    // Anchors, in document order, and their chaining state.
    private var anchorDocument: [Int32] = []
    private var anchorReference: [Int32] = []
    private var chainScore: [Double] = []
    private var chainMatched: [Int32] = []
    private var predecessor: [Int32] = []
    private var used: [Bool] = []
    private var superseded: [Bool] = []
    /// Chain ends worth extracting (at least a fragment's score), best first.
    private var ends: [(score: Double, anchor: Int32)] = []

    mutating func align(document: DocumentFingerprint, reference: UnsafeBufferPointer<UInt64>,
                        shingler: Shingler, isCommonAt: (Int, UInt64) -> Bool) -> Alignment {
        let k = shingler.size
        let documentTokens = document.tokens.hashes
        guard reference.count >= k, documentTokens.count >= k else { return Alignment() }
        shingler.shingles(of: reference, into: &referenceShingles)
        buildTable()
        collectAnchors(document.shingles, isCommonAt: isCommonAt)
        guard !anchorDocument.isEmpty else { return Alignment() }
        documentTokens.withUnsafeBufferPointer { chain($0, reference, k: k) }
        return extractChains(k: k)
    }

    /// `isCommonAt(i, hash)`: whether the reference's k-gram at token i, of that hash, is common.
    private mutating func collectAnchors(_ shingles: [UInt64], isCommonAt: (Int, UInt64) -> Bool) {
        anchorDocument.removeAll(keepingCapacity: true)
        anchorReference.removeAll(keepingCapacity: true)
        slots.withUnsafeBufferPointer { slots in
            heads.withUnsafeBufferPointer { heads in
                next.withUnsafeBufferPointer { next in
                    for (position, hash) in shingles.enumerated() {
                        var candidate = Self.lookup(hash, slots: slots, heads: heads)
                        guard candidate >= 0, !isCommonAt(Int(candidate), hash) else { continue }
                        var taken = 0
                        while candidate >= 0 && taken < Self.repeatsPerKGram {
                            anchorDocument.append(Int32(position))
                            anchorReference.append(candidate)
                            candidate = next[Int(candidate)]
                            taken += 1
                        }
                    }
                }
            }
        }
    }

    /// The best chain ending at each anchor (dynamic programming over earlier anchors).
    private mutating func chain(_ doc: UnsafeBufferPointer<UInt64>, _ reference: UnsafeBufferPointer<UInt64>, k: Int) {
        let count = anchorDocument.count
        chainScore.removeAll(keepingCapacity: true)
        chainScore.append(contentsOf: repeatElement(0, count: count))
        chainMatched.removeAll(keepingCapacity: true)
        chainMatched.append(contentsOf: repeatElement(0, count: count))
        predecessor.removeAll(keepingCapacity: true)
        predecessor.append(contentsOf: repeatElement(-1, count: count))
        // Through buffers: the arrays' uniqueness is checked once, not at every store.
        anchorDocument.withUnsafeBufferPointer { anchorDocument in
            anchorReference.withUnsafeBufferPointer { anchorReference in
                chainScore.withUnsafeMutableBufferPointer { chainScore in
                    chainMatched.withUnsafeMutableBufferPointer { chainMatched in
                        predecessor.withUnsafeMutableBufferPointer { predecessor in
                            for i in 0..<count {
                                let documentAt = Int(anchorDocument[i])
                                let referenceAt = Int(anchorReference[i])
                                // An anchor that continues the previous word's anchor on its
                                // diagonal takes it as its predecessor without a search: one more
                                // matched word is what any other link could give at best, and in
                                // a copy nearly every anchor is such a continuation.
                                if let previous = Self.continued(i, documentAt: documentAt, referenceAt: referenceAt,
                                                                 anchorDocument, anchorReference) {
                                    chainScore[i] = chainScore[previous] + 1
                                    chainMatched[i] = chainMatched[previous] + 1
                                    predecessor[i] = Int32(previous)
                                    continue
                                }
                                var best = Double(k)
                                var bestMatched = k
                                var from = -1
                                var j = i - 1
                                var looked = 0
                                while j >= 0 && looked < Self.lookBack {
                                    let documentStep = documentAt - Int(anchorDocument[j])
                                    if documentStep > Self.maximumGap { break }
                                    let referenceStep = referenceAt - Int(anchorReference[j])
                                    if documentStep > 0 && referenceStep > 0 {
                                        looked += 1
                                        let shift = abs(documentStep - referenceStep)
                                        // A link gains at most one token per document step: most
                                        // links cannot win.
                                        if shift <= Self.maximumShift && chainScore[j] + Double(documentStep) > best {
                                            // Words between the anchors that a copy kept are matched.
                                            let documentGap = (Int(anchorDocument[j]) + k)..<max(documentAt, Int(anchorDocument[j]) + k)
                                            let referenceGap = (Int(anchorReference[j]) + k)..<max(referenceAt, Int(anchorReference[j]) + k)
                                            let equal = Self.commonTokens(doc, documentGap, reference, referenceGap)
                                            let gain = min(k, documentStep, referenceStep) + equal
                                            let unmatched = max(0, max(documentStep, referenceStep) - k - equal) + (shift > 0 ? 1 : 0)
                                            let score = chainScore[j] + Double(gain) - Self.mismatchCost * Double(unmatched)
                                            if score > best {
                                                best = score
                                                bestMatched = Int(chainMatched[j]) + gain
                                                from = j
                                            }
                                        }
                                    }
                                    j -= 1
                                }
                                chainScore[i] = best
                                chainMatched[i] = Int32(bestMatched)
                                predecessor[i] = Int32(from)
                            }
                        }
                    }
                }
            }
        }
    }

    /// The anchor before `i` at (documentAt - 1, referenceAt - 1), if there is one: anchors are in
    /// document order, those of one document position together.
    private static func continued(_ i: Int, documentAt: Int, referenceAt: Int,
                                  _ anchorDocument: UnsafeBufferPointer<Int32>, _ anchorReference: UnsafeBufferPointer<Int32>) -> Int? {
        var previous = i - 1
        while previous >= 0 && Int(anchorDocument[previous]) == documentAt { previous -= 1 }
        while previous >= 0 && Int(anchorDocument[previous]) == documentAt - 1 {
            if Int(anchorReference[previous]) == referenceAt - 1 { return previous }
            previous -= 1
        }
        return nil
    }

    /// The most words between two chained anchors that a copy kept, however many of the others
    /// were substituted, inserted or deleted: the longest common subsequence of the document's
    /// tokens `document` (at most 64) and the reference's `referenceRange` whose pairs lie
    /// between the two anchors' diagonals (an edited copy's words drift from one to the other;
    /// words matched off them would be chance). Bit-parallel (Allison and Dix; Hyyrö 2004), one
    /// bit of state per document token.
    static func commonTokens(_ doc: UnsafeBufferPointer<UInt64>, _ document: Range<Int>,
                             _ reference: UnsafeBufferPointer<UInt64>, _ referenceRange: Range<Int>) -> Int {
        precondition(document.count <= 64, "a gap of at most 64 document tokens")
        guard !document.isEmpty, !referenceRange.isEmpty else { return 0 }
        // Reference offset i may match document offsets i - high ... i - low.
        let drift = referenceRange.count - document.count
        let low = min(0, drift)
        let high = max(0, drift)
        let width = document.count
        let all: UInt64 = width == 64 ? .max : (1 << UInt64(width)) - 1
        var columns = UInt64.max
        for (offset, referencePosition) in referenceRange.enumerated() {
            let first = max(0, offset - high)
            let last = min(width - 1, offset - low)
            guard first <= last else { continue }
            let word = reference[referencePosition]
            var matches: UInt64 = 0
            for bit in first...last where doc[document.lowerBound + bit] == word { matches |= 1 << UInt64(bit) }
            let kept = columns & matches
            columns = (columns &+ kept) | (columns & ~matches)
        }
        return width - (columns & all).nonzeroBitCount
    }

    /// Chains best first, each ending where a better one took an anchor, down to fragments; the
    /// passages are those that overlap no better chain in the document, gathered into runs.
    private mutating func extractChains(k: Int) -> Alignment {
        let count = anchorDocument.count
        let fragment = Self.minimumFragmentScore(shingleSize: k)
        // Only ends that can give a fragment are ordered (the scores and numbers side by side:
        // the sort compares neighbours in memory, not look-ups into the scores). An anchor that
        // precedes a better-scoring one is no end: that one comes first and, taken or passed
        // through, takes it (in a copy, nearly every anchor).
        superseded.removeAll(keepingCapacity: true)
        superseded.append(contentsOf: repeatElement(false, count: count))
        superseded.withUnsafeMutableBufferPointer { superseded in
            for anchor in 0..<count {
                let previous = Int(predecessor[anchor])
                if previous >= 0 && chainScore[anchor] > chainScore[previous] { superseded[previous] = true }
            }
        }
        ends.removeAll(keepingCapacity: true)
        for anchor in 0..<count where chainScore[anchor] >= fragment && !superseded[anchor] {
            ends.append((chainScore[anchor], Int32(anchor)))
        }
        ends.sort { $0.score != $1.score ? $0.score > $1.score : $0.anchor < $1.anchor }
        used.removeAll(keepingCapacity: true)
        used.append(contentsOf: repeatElement(false, count: count))
        var chains: [Chain] = []
        used.withUnsafeMutableBufferPointer { used in
            for (_, anchor) in ends where !used[Int(anchor)] {
                let end = Int(anchor)
                var first = end
                var cursor = end
                var below = 0.0
                var belowMatched = 0
                while cursor >= 0 {
                    if used[cursor] {
                        below = chainScore[cursor]
                        belowMatched = Int(chainMatched[cursor])
                        break
                    }
                    used[cursor] = true
                    first = cursor
                    cursor = Int(predecessor[cursor])
                }
                let score = chainScore[end] - below
                guard score >= fragment else { continue }
                let passage = Chain(document: Int(anchorDocument[first])..<(Int(anchorDocument[end]) + k),
                                    reference: Int(anchorReference[first])..<(Int(anchorReference[end]) + k),
                                    score: score, matchedTokens: Int(chainMatched[end]) - belowMatched)
                guard !chains.contains(where: { $0.document.overlaps(passage.document) }) else { continue }
                chains.append(passage)
            }
        }
        chains.sort { $0.document.lowerBound < $1.document.lowerBound }
        let runs = Self.runs(of: chains, k: k)
        var alignment = Alignment()
        // Best first: the first run counts whole, each further one beyond two short passages.
        let minimum = Self.minimumChainScore(shingleSize: k)
        var counted: [Range<Int>] = []
        for run in runs.sorted(by: { $0.score != $1.score ? $0.score > $1.score : $0.chains.lowerBound < $1.chains.lowerBound }) {
            let parts = chains[run.chains]
            alignment.chains.append(contentsOf: parts)
            guard !parts.contains(where: { part in counted.contains { $0.overlaps(part.reference) } }) else { continue }
            alignment.score += counted.isEmpty ? run.score : max(0, run.score - 2 * minimum)
            counted.append(contentsOf: parts.map(\.reference))
        }
        alignment.chains.sort { $0.document.lowerBound < $1.document.lowerBound }
        alignment.matchedTokens = alignment.chains.reduce(0) { $0 + $1.matchedTokens }
        alignment.documentTokensCovered = alignment.chains.reduce(0) { $0 + $1.document.count }
        alignment.referenceTokensCovered = Self.unionCount(alignment.chains.map(\.reference))
        return alignment
    }

    /// Runs of chains (in document order) that abut in the document, with their scores; those
    /// below `minimumChainScore` are left out.
    static func runs(of chains: [Chain], k: Int) -> [(chains: Range<Int>, score: Double)] {
        var runs: [(chains: Range<Int>, score: Double)] = []
        var start = 0
        var score = 0.0
        for (position, chain) in chains.enumerated() {
            if position > start && chain.document.lowerBound == chains[position - 1].document.upperBound {
                let repeats = chains[start..<position].contains { $0.reference.overlaps(chain.reference) }
                score += repeats ? 0 : chain.score - jumpCost(shingleSize: k)
            } else {
                if position > start { runs.append((start..<position, score)) }
                start = position
                score = chain.score
            }
        }
        if start < chains.count { runs.append((start..<chains.count, score)) }
        let minimum = minimumChainScore(shingleSize: k)
        return runs.filter { $0.score >= minimum }
    }

    static func unionCount(_ ranges: [Range<Int>]) -> Int {
        var total = 0
        var reach = Int.min
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            let start = max(range.lowerBound, reach)
            if range.upperBound > start { total += range.upperBound - start }
            reach = max(reach, range.upperBound)
        }
        return total
    }

    private mutating func buildTable() {
        var capacity = 16
        while capacity < referenceShingles.count * 2 { capacity <<= 1 }
        slots.removeAll(keepingCapacity: true)
        slots.append(contentsOf: repeatElement(0, count: capacity))
        heads.removeAll(keepingCapacity: true)
        heads.append(contentsOf: repeatElement(-1, count: capacity))
        next.removeAll(keepingCapacity: true)
        next.append(contentsOf: repeatElement(-1, count: referenceShingles.count + 1))
        let mask = capacity - 1
        // Inserted from the end so that each chain lists positions in increasing order. Through
        // buffers: the arrays' uniqueness is checked once, not at every store.
        referenceShingles.withUnsafeBufferPointer { shingles in
            slots.withUnsafeMutableBufferPointer { slots in
                heads.withUnsafeMutableBufferPointer { heads in
                    next.withUnsafeMutableBufferPointer { next in
                        for position in stride(from: shingles.count - 1, through: 0, by: -1) {
                            let hash = shingles[position]
                            var slot = Int(truncatingIfNeeded: hash) & mask
                            while heads[slot] >= 0 && slots[slot] != hash { slot = (slot + 1) & mask }
                            next[position] = heads[slot]
                            slots[slot] = hash
                            heads[slot] = Int32(position)
                        }
                    }
                }
            }
        }
    }

    /// The first position of `hash` in the table (-1: none).
    private static func lookup(_ hash: UInt64, slots: UnsafeBufferPointer<UInt64>, heads: UnsafeBufferPointer<Int32>) -> Int32 {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while heads[slot] >= 0 {
            if slots[slot] == hash { return heads[slot] }
            slot = (slot + 1) & mask
        }
        return -1
    }
}
