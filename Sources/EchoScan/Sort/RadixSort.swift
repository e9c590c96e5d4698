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
}
