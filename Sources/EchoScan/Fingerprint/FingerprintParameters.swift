/// The parameters that decide every fingerprint. They are stored in the reference index, and a
/// scan uses the index's values, so a corpus is always fingerprinted the way its index was.
public struct FingerprintParameters: Codable, Sendable, Equatable, Hashable {
    /// Seed of every hash (token, k-gram, permutation).
    public var seed: UInt64 = 0x6563_686F_7363_616E // "echoscan"
    /// Tokens per k-gram (shingle); the same k-grams feed MinHash and winnowing.
    public var shingleSize = 5
    /// MinHash values per signature.
    public var permutations = 128
    /// How they are computed.
    public var minHashScheme = MinHashScheme.onePermutation
    /// Winnowing window, in k-grams: any shared run of `shingleSize + winnowWindow - 1` tokens
    /// shares a fingerprint. 4 gives 8-token runs, shorter than the unedited stretches of a copy
    /// with one word in ten changed; measured in scripts/eval-quality.sh.
    public var winnowWindow = 4
    /// Jaccard similarity the LSH bands are tuned for.
    public var nearDuplicateThreshold = 0.8

    public init() {}

    enum CodingKeys: String, CodingKey {
        case seed, shingleSize = "shingle_size", permutations, minHashScheme = "minhash_scheme", winnowWindow = "winnow_window"
        case nearDuplicateThreshold = "near_duplicate_threshold"
    }

    /// Tokens in the shortest shared run that winnowing guarantees to see.
    public var guaranteedRun: Int { shingleSize + winnowWindow - 1 }

    public var banding: LSHBanding { LSHBanding(threshold: nearDuplicateThreshold, permutations: permutations) }
}
