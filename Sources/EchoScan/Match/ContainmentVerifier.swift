/// Exact verification of a candidate reference against a document over their token sequences.
///
/// Seeds are equal k-grams; each seed is extended token by token and the longest run from a
/// document position is taken, greedily left to right. A run of at least `minimumRun` tokens
/// starts an alignment, which then continues across small edits: after a mismatch it resumes
/// where at least `resumeRun` tokens match again with at most two tokens skipped on either side
/// (a substituted, inserted or deleted word). Isolated runs shorter than `minimumRun` — the
/// phrases that answers to the same prompt share — are ignored; an edited copy stays one chain.
/// The result: tokens covered on both sides and the document's matched token runs.
struct ContainmentVerifier {
    /// Open-addressing table from a reference k-gram hash to its first position, with a chain
    /// of later positions; reused across candidates so that verification allocates nothing.
    private var slots: [UInt64] = []
    private var heads: [Int32] = []
    private var next: [Int32] = []
    private var referenceCovered: [Bool] = []
    private var referenceShingles: [UInt64] = []

    struct Outcome {
        /// Matched document tokens that count as evidence.
        var documentTokensCovered = 0
        /// Reference tokens, counted once each, that the evidence covers.
        var referenceTokensCovered = 0
        /// Matched runs as token ranges of the document, in order.
        var runs: [Range<Int>] = []
        /// The same runs as token ranges of the reference.
        var referenceRuns: [Range<Int>] = []
    }

    /// Aligns `document` with a reference's tokens. Matched tokens count as evidence when a
    /// matched k-gram that is not common covers them (a short run resumed after an edit inherits
    /// the evidence of the run before it), so text shared only through stock phrases, prompts or
    /// background language does not count.
    mutating func verify(document: DocumentFingerprint, reference: UnsafeBufferPointer<UInt64>,
                         shingler: Shingler, minimumRun: Int, isCommon: (UInt64) -> Bool) -> Outcome {
        var outcome = Outcome()
        let documentTokens = document.tokens.hashes
        let k = shingler.size
        guard reference.count >= k, documentTokens.count >= k else { return outcome }
        shingler.shingles(of: Array(reference), into: &referenceShingles)
        buildTable()
        referenceCovered.removeAll(keepingCapacity: true)
        referenceCovered.append(contentsOf: repeatElement(false, count: reference.count))
        let shingles = document.shingles

        /// Counts the evidence of one run and returns whether its last token was evidence.
        func account(documentStart: Int, referenceStart: Int, length: Int, inherits: Bool) -> Bool {
            outcome.runs.append(documentStart..<(documentStart + length))
            outcome.referenceRuns.append(referenceStart..<(referenceStart + length))
            var evidenceEnd = documentStart  // tokens before this are known to be evidence
            if length >= k {
                for offset in 0...(length - k) where !isCommon(shingles[documentStart + offset]) {
                    let from = max(evidenceEnd, documentStart + offset)
                    let to = documentStart + offset + k
                    count(from, to, referenceShift: referenceStart - documentStart)
                    evidenceEnd = to
                }
                return evidenceEnd == documentStart + length
            }
            guard inherits else { return false }
            count(documentStart, documentStart + length, referenceShift: referenceStart - documentStart)
            return true
        }

        func count(_ from: Int, _ to: Int, referenceShift: Int) {
            guard from < to else { return }
            outcome.documentTokensCovered += to - from
            for index in (from + referenceShift)..<(to + referenceShift) where !referenceCovered[index] {
                referenceCovered[index] = true
                outcome.referenceTokensCovered += 1
            }
        }

        documentTokens.withUnsafeBufferPointer { doc in
            var position = 0
            while position < shingles.count {
                var bestLength = 0
                var bestStart = 0
                var candidate = lookup(shingles[position])
                var probes = 0
                while candidate >= 0 && probes < 16 {
                    var length = 0
                    let start = Int(candidate)
                    while position + length < doc.count, start + length < reference.count,
                          doc[position + length] == reference[start + length] {
                        length += 1
                    }
                    if length > bestLength { bestLength = length; bestStart = start }
                    candidate = next[start]
                    probes += 1
                }
                guard bestLength >= minimumRun && bestLength >= k else {
                    position += 1
                    continue
                }
                var documentAt = position
                var referenceAt = bestStart
                var length = bestLength
                var inherits = false
                while true {
                    inherits = account(documentStart: documentAt, referenceStart: referenceAt, length: length, inherits: inherits)
                    documentAt += length
                    referenceAt += length
                    guard let (skipDocument, skipReference, resumed) = Self.resume(doc, documentAt, reference, referenceAt) else { break }
                    documentAt += skipDocument
                    referenceAt += skipReference
                    length = resumed
                }
                position = documentAt
            }
        }
        return outcome
    }

    /// Tokens that must match again after an edit for an alignment to continue.
    static let resumeRun = 3
    /// Skips tried after a mismatch, (document, reference): substitutions first, then
    /// insertions and deletions, then two-word edits.
    static let skips: [(Int, Int)] = [(1, 1), (1, 0), (0, 1), (2, 2), (2, 1), (1, 2), (2, 0), (0, 2)]

    /// Where an alignment resumes after a mismatch at (documentAt, referenceAt), and the length
    /// of the run there; nil when no skip leads to `resumeRun` equal tokens.
    static func resume(_ doc: UnsafeBufferPointer<UInt64>, _ documentAt: Int,
                       _ reference: UnsafeBufferPointer<UInt64>, _ referenceAt: Int) -> (Int, Int, Int)? {
        for (skipDocument, skipReference) in skips {
            let d = documentAt + skipDocument
            let r = referenceAt + skipReference
            var length = 0
            while d + length < doc.count, r + length < reference.count, doc[d + length] == reference[r + length] { length += 1 }
            if length >= resumeRun { return (skipDocument, skipReference, length) }
        }
        return nil
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
        // Insert from the end so that each chain lists positions in increasing order.
        for position in stride(from: referenceShingles.count - 1, through: 0, by: -1) {
            let hash = referenceShingles[position]
            var slot = Int(truncatingIfNeeded: hash) & mask
            while heads[slot] >= 0 && slots[slot] != hash { slot = (slot + 1) & mask }
            next[position] = heads[slot]
            slots[slot] = hash
            heads[slot] = Int32(position)
        }
    }

    private func lookup(_ hash: UInt64) -> Int32 {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while heads[slot] >= 0 {
            if slots[slot] == hash { return heads[slot] }
            slot = (slot + 1) & mask
        }
        return -1
    }
}
