/// Parameters of corpus deduplication (`dedup:` in a pipeline file).
public struct DedupOptions: Sendable, Equatable, Codable {
    /// Fingerprint parameters: Jaccard threshold (LSH bands follow from it), permutations,
    /// shingle size, MinHash scheme and seed.
    public var parameters: FingerprintParameters = {
        var parameters = FingerprintParameters()
        parameters.nearDuplicateThreshold = 0.8
        return parameters
    }()
    /// Documents with fewer tokens are only deduplicated exactly.
    public var minimumTokens = 5
    /// Band entries sorted in memory before a run is spilled to disk.
    public var sortRunEntries = 4 << 20

    public init() {}

    enum CodingKeys: String, CodingKey {
        case parameters, minimumTokens = "min_tokens", sortRunEntries = "sort_run_entries"
    }
}
