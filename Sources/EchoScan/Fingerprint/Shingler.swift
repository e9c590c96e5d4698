/// Hashes every run of k consecutive tokens (a k-gram, or shingle) with a rolling polynomial hash,
/// finalised by a mixer so that k-grams differing in one token get unrelated hashes.
///
/// A text shorter than k tokens (but not empty) yields one k-gram of all its tokens, so that short
/// texts still have a signature.
public struct Shingler: Sendable {
    public let size: Int
    public let seed: UInt64
    private let base: UInt64 = 0x100_0000_01B3
    private let leadingPower: UInt64

    public init(size: Int, seed: UInt64) {
        precondition(size >= 1, "shingle size must be at least 1")
        self.size = size
        self.seed = StableHash.mix(seed ^ 0x5348_494E_474C_4553)
        var power: UInt64 = 1
        for _ in 1..<size { power &*= 0x100_0000_01B3 }
        leadingPower = power
    }

    public func shingles(of tokens: [UInt64], into output: inout [UInt64]) {
        tokens.withUnsafeBufferPointer { shingles(of: $0, into: &output) }
    }

    /// The same, for tokens in place (a reference's tokens in the index).
    public func shingles(of tokens: UnsafeBufferPointer<UInt64>, into output: inout [UInt64]) {
        let count = tokens.count
        let span = min(size, count)
        output = [UInt64](unsafeUninitializedCapacity: max(count - size + 1, count > 0 ? 1 : 0)) { shingles, written in
            guard count > 0 else { return }
            var rolling: UInt64 = 0
            for index in 0..<span { rolling = rolling &* base &+ tokens[index] }
            shingles[0] = StableHash.mix(rolling ^ seed)
            written = 1
            guard count > size else { return }
            for index in size..<count {
                rolling = (rolling &- tokens[index - size] &* leadingPower) &* base &+ tokens[index]
                shingles[written] = StableHash.mix(rolling ^ seed)
                written += 1
            }
        }
    }
}
