import CEchoScanShims
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One bit per value of a 64-bit hash's leading `bits` bits, set for every hash of a set: a
/// membership pre-check that never says no to a member and, with a few bits per member, says no
/// to most non-members with one cache-resident load — before a search through a table that is not.
///
/// Its words are either its own (built here, on huge pages) or those of a mapped index section,
/// which the index file keeps alive.
struct LeadingBitsFilter: @unchecked Sendable {
    private let storage: FilterWords?
    private let words: UnsafePointer<UInt64>
    private let shift: UInt64

    init(bits: Int) {
        let storage = FilterWords(count: max(1, (1 << bits) / 64))
        self.storage = storage
        words = UnsafePointer(storage.words)
        shift = UInt64(64 - bits)
    }

    /// A filter over `hashes`, with about `bitsPerHash` bits per hash (at most 2²⁸ bits).
    init<Hashes: Sequence>(_ hashes: Hashes, count: Int, bitsPerHash: Int) where Hashes.Element == UInt64 {
        self.init(bits: Self.bits(count: count, bitsPerHash: bitsPerHash))
        for hash in hashes { insert(hash) }
    }

    /// The filter in `bytes` (as `bytes` wrote them: an index section, 8-byte aligned in a
    /// mapping that outlives the filter), for `count` hashes at `bitsPerHash`, read in place;
    /// nil when they are not of that filter's size.
    init?(stored bytes: UnsafeRawBufferPointer, count: Int, bitsPerHash: Int) {
        let bits = Self.bits(count: count, bitsPerHash: bitsPerHash)
        guard bytes.count == Self.byteCount(bits: bits), let base = bytes.baseAddress,
              Int(bitPattern: base) % MemoryLayout<UInt64>.alignment == 0 else { return nil }
        #if _endian(big)
        return nil
        #else
        storage = nil
        words = base.assumingMemoryBound(to: UInt64.self)
        shift = UInt64(64 - bits)
        #endif
    }

    /// The words, little-endian, for the index file.
    var bytes: [UInt8] {
        var buffer = BinaryBuffer()
        buffer.append(contentsOf: Array(UnsafeBufferPointer(start: words, count: Self.byteCount(bits: 64 - Int(shift)) / 8)))
        return buffer.bytes
    }

    private static func bits(count: Int, bitsPerHash: Int) -> Int {
        min(28, max(6, Int.bitWidth - (count * bitsPerHash).leadingZeroBitCount))
    }

    private static func byteCount(bits: Int) -> Int { max(1, (1 << bits) / 64) * 8 }

    /// Only while the filter is being built (the words are shared by copies).
    private func insert(_ hash: UInt64) {
        guard let storage else { preconditionFailure("a stored filter is read-only") }
        let bit = Int(hash >> shift)
        storage.words[bit >> 6] |= 1 << UInt64(bit & 63)
    }

    /// Starts loading the filter word of `hash` into the cache.
    @inline(__always)
    func prefetch(_ hash: UInt64) {
        echoscan_prefetch(words + Int(hash >> shift) >> 6)
    }

    @inline(__always)
    func mightContain(_ hash: UInt64) -> Bool {
        let bit = Int(hash >> shift)
        return words[bit >> 6] & (1 << UInt64(bit & 63)) != 0
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
