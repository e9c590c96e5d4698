import CEchoScanShims
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A Bloom filter of one 64-bit word per hash: a hash's leading bits choose its word, and three
/// fields of six of its low bits the three bits it sets there. A membership pre-check that never
/// says no to a member and says no to most non-members with one cache-resident load — before a
/// search through a table that is not. At 12 to 24 bits per member (sizes are powers of two)
/// 0.3-1.7% of non-members pass (0.8% at 16); one bit per hash passed 2-3% at 32 to 64 bits per
/// member.
///
/// Its words are either its own (built here, on huge pages) or those of a mapped index section,
/// which the index file keeps alive.
struct BlockedBloomFilter: @unchecked Sendable {
    private let storage: FilterWords?
    private let words: UnsafePointer<UInt64>
    /// 64 less the bits that number the words (a shift by 64 leaves word 0).
    private let shift: UInt64

    /// The largest filter: 2^31 bits (256 MB).
    static let maximumBits = 31

    init(bits: Int) {
        let storage = FilterWords(count: Self.wordCount(bits: bits))
        self.storage = storage
        words = UnsafePointer(storage.words)
        shift = Self.shift(bits: bits)
    }

    /// A filter over `hashes`, with about `bitsPerHash` bits per hash (at most 2^`maximumBits`).
    init<Hashes: Sequence>(_ hashes: Hashes, count: Int, bitsPerHash: Int) where Hashes.Element == UInt64 {
        self.init(bits: Self.bits(count: count, bitsPerHash: bitsPerHash))
        for hash in hashes { insert(hash) }
    }

    /// The filter in `bytes` (as `bytes` wrote them: an index section, 8-byte aligned in a
    /// mapping that outlives the filter), for `count` hashes at `bitsPerHash`, read in place;
    /// nil when they are not of that filter's size.
    init?(stored bytes: UnsafeRawBufferPointer, count: Int, bitsPerHash: Int) {
        let bits = Self.bits(count: count, bitsPerHash: bitsPerHash)
        guard bytes.count == Self.wordCount(bits: bits) * 8, let base = bytes.baseAddress,
              Int(bitPattern: base) % MemoryLayout<UInt64>.alignment == 0 else { return nil }
        #if _endian(big)
        return nil
        #else
        storage = nil
        words = base.assumingMemoryBound(to: UInt64.self)
        shift = Self.shift(bits: bits)
        #endif
    }

    /// The words, little-endian, for the index file.
    var bytes: [UInt8] {
        var buffer = BinaryBuffer()
        buffer.append(contentsOf: Array(UnsafeBufferPointer(start: words, count: Self.wordCount(bits: 70 - Int(shift)))))
        return buffer.bytes
    }

    private static func bits(count: Int, bitsPerHash: Int) -> Int {
        min(maximumBits, max(6, Int.bitWidth - (count * bitsPerHash).leadingZeroBitCount))
    }

    private static func wordCount(bits: Int) -> Int { 1 << (bits - 6) }

    private static func shift(bits: Int) -> UInt64 { UInt64(70 - bits) }

    /// The word's three bits of `hash`.
    @inline(__always)
    private static func mask(_ hash: UInt64) -> UInt64 {
        (1 << (hash & 63)) | (1 << ((hash >> 6) & 63)) | (1 << ((hash >> 12) & 63))
    }

    /// Only while the filter is being built (the words are shared by copies).
    private func insert(_ hash: UInt64) {
        guard let storage else { preconditionFailure("a stored filter is read-only") }
        storage.words[Int(hash >> shift)] |= Self.mask(hash)
    }

    /// Starts loading the filter word of `hash` into the cache.
    @inline(__always)
    func prefetch(_ hash: UInt64) {
        echoscan_prefetch(words + Int(hash >> shift))
    }

    @inline(__always)
    func mightContain(_ hash: UInt64) -> Bool {
        let mask = Self.mask(hash)
        return words[Int(hash >> shift)] & mask == mask
    }
}

/// Zeroed filter words. A filter of megabytes is probed at random, one word per look-up, so
/// with 4 KiB pages nearly every probe also missed the TLB; large filters are therefore aligned
/// to 2 MiB and offered to the kernel as transparent huge pages (`madvise`; where the kernel
/// does not oblige, they stay ordinary pages).
private final class FilterWords: @unchecked Sendable {
    let words: UnsafeMutablePointer<UInt64>
    private static let hugePage = 2 << 20

    init(count: Int) {
        let bytes = count * MemoryLayout<UInt64>.stride
        let alignment = bytes >= Self.hugePage ? Self.hugePage : 64
        var memory: UnsafeMutableRawPointer?
        guard posix_memalign(&memory, alignment, bytes) == 0, let memory else {
            fatalError("out of memory for a filter of \(bytes) bytes")
        }
        #if canImport(Glibc)
        if alignment == Self.hugePage { _ = madvise(memory, bytes, MADV_HUGEPAGE) }
        #endif
        memset(memory, 0, bytes)
        words = memory.bindMemory(to: UInt64.self, capacity: count)
    }

    deinit { free(words) }
}
