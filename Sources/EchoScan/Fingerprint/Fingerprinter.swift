/// Everything the matchers need to know about one text.
public struct DocumentFingerprint: Sendable {
    public var tokens = TokenSequence()
    /// One hash per k-gram, in order.
    public var shingles: [UInt64] = []
    public var signature: [UInt32] = []
    /// Winnowed k-gram hashes and the index of the k-gram each came from.
    public var winnowedHashes: [UInt64] = []
    public var winnowedPositions: [UInt32] = []

    public init() {}
}

/// Turns text into a `DocumentFingerprint`, reusing the fingerprint's buffers between calls so
/// that a worker allocates nothing per document once warmed up.
public struct Fingerprinter: Sendable {
    public let parameters: FingerprintParameters
    public let tokenizer: Tokenizer
    public let shingler: Shingler
    public let minHasher: MinHasher
    public let winnower: Winnower

    public init(parameters: FingerprintParameters) {
        self.parameters = parameters
        tokenizer = Tokenizer(seed: parameters.seed)
        shingler = Shingler(size: parameters.shingleSize, seed: parameters.seed)
        minHasher = MinHasher(permutations: parameters.permutations, seed: parameters.seed, scheme: parameters.minHashScheme)
        winnower = Winnower(window: parameters.winnowWindow)
    }

    /// The parts of a fingerprint beyond tokens and k-grams, computed only when asked for.
    public struct Parts: OptionSet, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        /// The MinHash signature (near-duplicate detection).
        public static let signature = Parts(rawValue: 1)
        /// The winnowed k-grams (containment look-ups).
        public static let winnowed = Parts(rawValue: 2)
        public static let all: Parts = [.signature, .winnowed]
    }

    /// Fills `fingerprint` for `text`: tokens, k-grams and the `parts` asked for (the others are
    /// left empty).
    public func fingerprint(_ text: UnsafeBufferPointer<UInt8>, into fingerprint: inout DocumentFingerprint, parts: Parts = .all) {
        tokenizer.tokenize(text, into: &fingerprint.tokens)
        shingler.shingles(of: fingerprint.tokens.hashes, into: &fingerprint.shingles)
        if parts.contains(.signature) {
            minHasher.signature(of: fingerprint.shingles, into: &fingerprint.signature)
        } else {
            fingerprint.signature.removeAll(keepingCapacity: true)
        }
        if parts.contains(.winnowed) {
            winnower.winnow(fingerprint.shingles, hashes: &fingerprint.winnowedHashes, positions: &fingerprint.winnowedPositions)
        } else {
            fingerprint.winnowedHashes.removeAll(keepingCapacity: true)
            fingerprint.winnowedPositions.removeAll(keepingCapacity: true)
        }
    }

    /// Convenience for tests and tools: the fingerprint of a String.
    public func fingerprint(of text: String) -> DocumentFingerprint {
        var result = DocumentFingerprint()
        var text = text
        text.withUTF8 { fingerprint($0, into: &result) }
        return result
    }
}
