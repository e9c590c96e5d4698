/// Seeded, platform-independent 64-bit hashing. Every hash in echoscan comes from here, so the same
/// text gives the same fingerprints on any machine, build and thread count (Swift's `Hasher` is
/// randomly seeded per process and cannot be used).
public enum StableHash {
    /// MurmurHash3's 64-bit finaliser: a bijection that spreads every input bit over the output.
    @inline(__always)
    public static func mix(_ value: UInt64) -> UInt64 {
        var x = value
        x ^= x >> 33
        x &*= 0xFF51_AFD7_ED55_8CCD
        x ^= x >> 33
        x &*= 0xC4CE_B9FE_1A85_EC53
        x ^= x >> 33
        return x
    }

    /// Hash of a sequence of hashes (e.g. a text's tokens): equal for equal normalized texts.
    /// The values are already mixed hashes, so each lane is a polynomial over them (one multiply
    /// and add per value; distinct sequences of one length collide with probability about 2⁻⁶⁴),
    /// mixed once at the end. Four lanes, each over every fourth value, so that the multiplies'
    /// latency overlaps.
    public static func sequence(_ values: [UInt64]) -> UInt64 {
        values.withUnsafeBufferPointer(sequence)
    }

    /// `sequence(_:)` of the values in a buffer.
    public static func sequence(_ values: UnsafeBufferPointer<UInt64>) -> UInt64 {
        let base: UInt64 = 0x9E37_79B9_7F4A_7C15
        var lanes: (UInt64, UInt64, UInt64, UInt64) = (0x4558_4143_5453_4551, 0x4C41_4E45_2D54_574F,
                                                       0x4C41_4E45_2D54_4852, 0x4C41_4E45_2D46_4F55)
        var index = 0
        while index + 4 <= values.count {
            lanes.0 = lanes.0 &* base &+ values[index]
            lanes.1 = lanes.1 &* base &+ values[index + 1]
            lanes.2 = lanes.2 &* base &+ values[index + 2]
            lanes.3 = lanes.3 &* base &+ values[index + 3]
            index += 4
        }
        // The last one to three values continue the first lanes.
        if index < values.count { lanes.0 = lanes.0 &* base &+ values[index] }
        if index + 1 < values.count { lanes.1 = lanes.1 &* base &+ values[index + 1] }
        if index + 2 < values.count { lanes.2 = lanes.2 &* base &+ values[index + 2] }
        return mix(mix(mix(mix(lanes.0) ^ lanes.1) ^ lanes.2) ^ lanes.3 ^ UInt64(values.count))
    }

    /// Hash of a byte string under a seed.
    public static func hash<C: Sequence>(bytes: C, seed: UInt64) -> UInt64 where C.Element == UInt8 {
        var hasher = TokenHasher(seed: seed)
        for byte in bytes { hasher.add(byte) }
        return hasher.finish()
    }
}

/// SplitMix64: the seeded generator behind MinHash permutations and test data.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return StableHash.mix(state)
    }
}

/// Hashes a token's normalized bytes eight at a time: byte i of the token goes to bits
/// 8·(i mod 8) of a word (a little-endian load), each full word is mixed into the state, and the
/// length closes it. The tokenizer's Unicode path feeds it byte by byte; its ASCII path computes
/// the same hash in C, eight bytes at a time (`echoscan_hash_ascii_word`).
@usableFromInline
struct TokenHasher {
    var state: UInt64
    var word: UInt64 = 0
    var length: UInt64 = 0

    @inline(__always)
    init(seed: UInt64) { state = seed }

    @inline(__always)
    mutating func add(_ byte: UInt8) {
        word |= UInt64(byte) << ((length & 7) << 3)
        length &+= 1
        if length & 7 == 0 {
            state = StableHash.mix(state ^ word) &+ 0x9E37_79B9_7F4A_7C15
            word = 0
        }
    }

    @inline(__always)
    func finish() -> UInt64 {
        StableHash.mix(state ^ word ^ (length << 56))
    }
}
