/// Sorts (key, value) pairs by key, then value: a stable least-significant-digit radix sort on the
/// key (six passes of 11 bits, skipping digits every entry shares), then each run of equal keys
/// sorted by value. Several times faster than a comparison sort on the millions of random 64-bit
/// k-gram hashes an index build or a dedup sorts.
enum RadixSort {
    private static let digitBits = 11
    private static let buckets = 1 << digitBits

    static func sort(_ entries: inout [ExternalSorter.Entry]) {
        let count = entries.count
        guard count > 1 else { return }
        guard count > 256 else {
            entries.sort { $0.key != $1.key ? $0.key < $1.key : $0.value < $1.value }
            return
        }
        var other = entries
        var counts = [Int](repeating: 0, count: buckets)
        var sourceIsEntries = true
        entries.withUnsafeMutableBufferPointer { first in
            other.withUnsafeMutableBufferPointer { second in
                counts.withUnsafeMutableBufferPointer { counts in
                    for shift in stride(from: 0, to: 64, by: digitBits) {
                        let source = sourceIsEntries ? first : second
                        let target = sourceIsEntries ? second : first
                        let mask = UInt64(buckets - 1)
                        for index in 0..<buckets { counts[index] = 0 }
                        for entry in source { counts[Int((entry.key >> UInt64(shift)) & mask)] += 1 }
                        // A digit that every key shares moves nothing.
                        if counts[Int((source[0].key >> UInt64(shift)) & mask)] == count { continue }
                        var total = 0
                        for index in 0..<buckets {
                            let bucketCount = counts[index]
                            counts[index] = total
                            total += bucketCount
                        }
                        for entry in source {
                            let digit = Int((entry.key >> UInt64(shift)) & mask)
                            target[counts[digit]] = entry
                            counts[digit] += 1
                        }
                        sourceIsEntries.toggle()
                    }
                }
            }
        }
        if !sourceIsEntries { swap(&entries, &other) }
        // Equal keys are rare (a k-gram in several references): sort their values in place.
        entries.withUnsafeMutableBufferPointer { sorted in
            var start = 0
            while start < count {
                var end = start + 1
                while end < count, sorted[end].key == sorted[start].key { end += 1 }
                if end - start > 1 {
                    var run = Array(sorted[start..<end])
                    run.sort { $0.value < $1.value }
                    for (offset, entry) in run.enumerated() { sorted[start + offset] = entry }
                }
                start = end
            }
        }
    }

    /// Sorts 32-bit values: four passes of 8 bits with all four histograms taken in one read,
    /// `scratch` reused between calls. For the k-gram sets of single documents (hundreds to
    /// thousands of values), where a comparison sort's per-call overhead dominates.
    static func sort(_ values: inout [UInt32], scratch: inout [UInt32]) {
        let count = values.count
        guard count > 64 else {
            values.sort()
            return
        }
        if scratch.count < count { scratch = [UInt32](repeating: 0, count: count) }
        var sourceIsValues = true
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 4 * 256) { counts in
            counts.initialize(repeating: 0)
            values.withUnsafeMutableBufferPointer { first in
                scratch.withUnsafeMutableBufferPointer { second in
                    for value in first {
                        for digit in 0..<4 { counts[digit * 256 + Int((value >> UInt32(8 * digit)) & 0xFF)] += 1 }
                    }
                    for digit in 0..<4 {
                        let histogram = UnsafeMutableBufferPointer(rebasing: counts[(digit * 256)..<((digit + 1) * 256)])
                        let source = sourceIsValues ? first : second
                        let target = sourceIsValues ? second : first
                        let shift = UInt32(8 * digit)
                        // A digit that every value shares moves nothing.
                        if histogram[Int((source[0] >> shift) & 0xFF)] == count { continue }
                        var total = 0
                        for index in 0..<256 {
                            let bucketCount = histogram[index]
                            histogram[index] = total
                            total += bucketCount
                        }
                        for index in 0..<count {
                            let value = source[index]
                            let bucket = Int((value >> shift) & 0xFF)
                            target[histogram[bucket]] = value
                            histogram[bucket] += 1
                        }
                        sourceIsValues.toggle()
                    }
                }
            }
        }
        if !sourceIsValues {
            values.withUnsafeMutableBufferPointer { target in
                scratch.withUnsafeBufferPointer { source in
                    for index in 0..<count { target[index] = source[index] }
                }
            }
        }
    }
}

extension Array where Element: Equatable {
    /// Keeps the first of each run of equal neighbours, in place: a sorted array becomes a set.
    mutating func removeAdjacentDuplicates() {
        var kept = 0
        for index in indices where kept == 0 || self[kept - 1] != self[index] {
            self[kept] = self[index]
            kept += 1
        }
        removeSubrange(kept...)
    }
}
