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

    /// Fills `fingerprint` for `text`; `withSignature: false` skips MinHash when no near-duplicate
    /// detection is wanted.
    public func fingerprint(_ text: UnsafeBufferPointer<UInt8>, into fingerprint: inout DocumentFingerprint, withSignature: Bool = true) {
        tokenizer.tokenize(text, into: &fingerprint.tokens)
        shingler.shingles(of: fingerprint.tokens.hashes, into: &fingerprint.shingles)
        if withSignature {
            minHasher.signature(of: fingerprint.shingles, into: &fingerprint.signature)
        } else {
            fingerprint.signature.removeAll(keepingCapacity: true)
        }
        winnower.winnow(fingerprint.shingles, hashes: &fingerprint.winnowedHashes, positions: &fingerprint.winnowedPositions)
    }

    /// Convenience for tests and tools: the fingerprint of a String.
    public func fingerprint(of text: String) -> DocumentFingerprint {
        var result = DocumentFingerprint()
        var text = text
        text.withUTF8 { fingerprint($0, into: &result) }
        return result
    }
}
