import CEchoScanShims
/// One bit per value of a 64-bit hash's leading `bits` bits, set for every hash of a set: a
/// membership pre-check that never says no to a member and, with a few bits per member, says no
/// to most non-members with one cache-resident load — before a search through a table that is not.
struct LeadingBitsFilter: Sendable {
    private var words: [UInt64]
    private let shift: UInt64

    init(bits: Int) {
        words = [UInt64](repeating: 0, count: max(1, (1 << bits) / 64))
        shift = UInt64(64 - bits)
    }

    /// A filter over `hashes`, with about `bitsPerHash` bits per hash (at most 2²⁸ bits).
    init<Hashes: Sequence>(_ hashes: Hashes, count: Int, bitsPerHash: Int) where Hashes.Element == UInt64 {
        let bits = min(28, max(6, Int.bitWidth - (count * bitsPerHash).leadingZeroBitCount))
        self.init(bits: bits)
        for hash in hashes { insert(hash) }
    }

    mutating func insert(_ hash: UInt64) {
        let bit = Int(hash >> shift)
        words[bit >> 6] |= 1 << UInt64(bit & 63)
    }

    /// Starts loading the filter word of `hash` into the cache.
    @inline(__always)
    func prefetch(_ hash: UInt64) {
        words.withUnsafeBufferPointer { words in
            if let base = words.baseAddress { echoscan_prefetch(base + Int(hash >> shift) >> 6) }
        }
    }

    @inline(__always)
    func mightContain(_ hash: UInt64) -> Bool {
        let bit = Int(hash >> shift)
        return words[bit >> 6] & (1 << UInt64(bit & 63)) != 0
    }
}
