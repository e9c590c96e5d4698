/// MinHash signatures over k-gram hashes: for each of P permutations h_j(x) = (a_j·x + b_j) >> 32
/// (multiply-add-shift hashing, a_j odd), the signature keeps the minimum over the document's
/// k-grams. The fraction of equal positions in two signatures estimates the Jaccard similarity
/// of their k-gram sets, with standard error sqrt(J(1-J)/P).
///
/// The inner loop runs over permutations for one k-gram, on flat arrays with no allocation.
public struct MinHasher: Sendable {
    public let permutations: Int
    private let multipliers: [UInt64]
    private let addends: [UInt64]

    public init(permutations: Int, seed: UInt64) {
        precondition(permutations >= 1, "at least one permutation")
        self.permutations = permutations
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
}
