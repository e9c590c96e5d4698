/// How a MinHash signature of P values is computed.
public enum MinHashScheme: String, Codable, Sendable, CaseIterable {
    /// One hash per k-gram (the shingler's) splits the k-grams into P bins by its top bits and
    /// keeps each bin's minimum; empty bins borrow the value of a bin chosen by a fixed per-bin
    /// probe sequence ("optimal densification", Shrivastava, ICML 2017). Same estimator, about P
    /// times cheaper.
    case onePermutation = "one_permutation"
    /// P independent hash functions h_j(x) = (a_j·x + b_j) >> 32, the minimum of each over the
    /// k-grams (what datasketch computes).
    case permutations
}

/// MinHash signatures over k-gram hashes. The fraction of equal positions in two signatures
/// estimates the Jaccard similarity of the two k-gram sets, with standard error about
/// sqrt(J(1-J)/P); see `MinHashScheme` for the two ways of computing them.
///
/// The loops run on flat arrays with no allocation per k-gram.
public struct MinHasher: Sendable {
    public let permutations: Int
    public let scheme: MinHashScheme
    private let multipliers: [UInt64]
    private let addends: [UInt64]
    private let binSeed: UInt64
    /// The first `cachedProbes` bins of each bin's densification probe sequence, bin-major: most
    /// empty bins find a filled one within them, and a table load is cheaper than the probe's mix
    /// (densification held about half of the MinHash profile samples of a dedup).
    private let probes: [UInt32]
    private static let cachedProbes = 16

    public init(permutations: Int, seed: UInt64, scheme: MinHashScheme = .onePermutation) {
        precondition(permutations >= 1, "at least one permutation")
        self.permutations = permutations
        self.scheme = scheme
        let binSeed = StableHash.mix(seed ^ 0x4F50_4832_4249_4E53)
        self.binSeed = binSeed
        // Only the one-permutation scheme densifies.
        probes = scheme != .onePermutation ? [] : (0..<permutations).flatMap { bin in
            (0..<UInt64(Self.cachedProbes)).map { UInt32(Self.probe(bin: bin, attempt: $0, bins: permutations, binSeed: binSeed)) }
        }
        var generator = SplitMix64(seed: seed ^ 0x4D49_4E48_4153_4821)
        var multipliers: [UInt64] = []
        var addends: [UInt64] = []
        for _ in 0..<permutations {
            multipliers.append(generator.next() | 1)
            addends.append(generator.next())
        }
        self.multipliers = multipliers
        self.addends = addends
    }

    /// Writes the signature of `shingles` into `signature` (resized to `permutations`).
    /// An empty document gets all-ones, which matches nothing but another empty document.
    public func signature(of shingles: [UInt64], into signature: inout [UInt32]) {
        switch scheme {
        case .onePermutation: onePermutationSignature(of: shingles, into: &signature)
        case .permutations: permutationSignature(of: shingles, into: &signature)
        }
    }

    private func onePermutationSignature(of shingles: [UInt64], into signature: inout [UInt32]) {
        let bins = UInt64(permutations)
        // The bins' minimums and their filled flags in one buffer: kept apart (the flags on the
        // stack, the minimums in the signature's heap storage), a flag's store could share the
        // low 12 address bits of the next minimum's load, which then waits for it (4K aliasing:
        // this loop ran 2.8× slower in one build for no other reason).
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 2 * permutations) { buffer in
            let minimums = UnsafeMutableBufferPointer(rebasing: buffer[0..<permutations])
            let filled = UnsafeMutableBufferPointer(rebasing: buffer[permutations...])
            minimums.initialize(repeating: UInt32.max)
            filled.initialize(repeating: 0)
            // The k-gram hashes come out of the shingler's mixer, a bijection that spreads every
            // bit: their upper half picks the bin and their lower half is the value, with no
            // second mix. Branch-free: whether a k-gram lowers its bin's minimum is a coin toss
            // early in a text, and a mispredicted branch costs more than the two stores.
            for shingle in shingles {
                let bin = Int(((shingle >> 32) &* bins) >> 32)
                minimums[bin] = min(minimums[bin], UInt32(truncatingIfNeeded: shingle))
                filled[bin] = 1
            }
            if !shingles.isEmpty {
                // Densify: an empty bin takes the value of the first filled bin on its own
                // fixed probe sequence, so two documents' empty bins agree as often as their
                // filled bins do.
                for bin in 0..<permutations where filled[bin] == 0 {
                    var attempt = 0
                    while true {
                        let source = attempt < Self.cachedProbes ? Int(probes[bin &* Self.cachedProbes &+ attempt])
                            : Self.probe(bin: bin, attempt: UInt64(attempt), bins: permutations, binSeed: binSeed)
                        if filled[source] != 0 {
                            minimums[bin] = minimums[source]
                            break
                        }
                        attempt += 1
                    }
                }
            }
            signature.removeAll(keepingCapacity: true)
            signature.append(contentsOf: minimums)
        }
    }

    /// The bin that an empty `bin` looks at on its `attempt`-th probe.
    private static func probe(bin: Int, attempt: UInt64, bins: Int, binSeed: UInt64) -> Int {
        let probe = StableHash.mix(binSeed ^ (UInt64(bin) << 32) ^ attempt)
        return Int(((probe >> 32) &* UInt64(bins)) >> 32)
    }

    private func permutationSignature(of shingles: [UInt64], into signature: inout [UInt32]) {
        signature.removeAll(keepingCapacity: true)
        signature.append(contentsOf: repeatElement(UInt32.max, count: permutations))
        let count = permutations
        signature.withUnsafeMutableBufferPointer { minimums in
            multipliers.withUnsafeBufferPointer { a in
                addends.withUnsafeBufferPointer { b in
                    for shingle in shingles {
                        for j in 0..<count {
                            let value = UInt32(truncatingIfNeeded: (a[j] &* shingle &+ b[j]) >> 32)
                            minimums[j] = min(minimums[j], value)
                        }
                    }
                }
            }
        }
    }

    /// The share of positions where two signatures agree: the Jaccard estimate.
    public static func similarity(_ lhs: UnsafeBufferPointer<UInt32>, _ rhs: UnsafeBufferPointer<UInt32>) -> Double {
        let count = min(lhs.count, rhs.count)
        guard count > 0 else { return 0 }
        var equal = 0
        for index in 0..<count where lhs[index] == rhs[index] { equal += 1 }
        return Double(equal) / Double(count)
    }

    /// The estimate against a signature of which only the low 16 bits of each value are kept
    /// (b-bit MinHash, as the index stores its groups'): two different values agree in them one
    /// time in 65,536, which raises an estimate by (1 − J) ÷ 65,536 on average (one such
    /// agreement, 1/128, in about one comparison of 500).
    public static func similarity(_ signature: UnsafeBufferPointer<UInt32>, lowBits stored: UnsafeBufferPointer<UInt16>) -> Double {
        let count = min(signature.count, stored.count)
        guard count > 0 else { return 0 }
        var equal = 0
        for index in 0..<count where UInt16(truncatingIfNeeded: signature[index]) == stored[index] { equal += 1 }
        return Double(equal) / Double(count)
    }
}
