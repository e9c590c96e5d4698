/// Winnowing (Schleimer, Wilkerson and Aiken, SIGMOD 2003): from every window of w consecutive
/// k-gram hashes keep the minimum (the rightmost on ties), each kept once. Any run of k + w − 1
/// tokens shared by two texts contains a whole window, so both keep the same fingerprint for it.
public struct Winnower: Sendable {
    public let window: Int

    public init(window: Int) {
        precondition(window >= 1, "window must be at least 1")
        self.window = window
    }

    /// Fills `hashes` and `positions` (index of the k-gram, which is the index of its first token).
    public func winnow(_ shingles: [UInt64], hashes: inout [UInt64], positions: inout [UInt32]) {
        let count = shingles.count
        // Sized for the most a text can yield (one per k-gram), written through pointers, then
        // cut to what was kept: no per-append checks in the loop.
        hashes.removeAll(keepingCapacity: true)
        positions.removeAll(keepingCapacity: true)
        guard count > 0 else { return }
        hashes.append(contentsOf: repeatElement(0, count: count))
        positions.append(contentsOf: repeatElement(0, count: count))
        let width = min(window, count)
        var kept = 0
        shingles.withUnsafeBufferPointer { values in
            hashes.withUnsafeMutableBufferPointer { keptHashes in
                positions.withUnsafeMutableBufferPointer { keptPositions in
                    // Wrapping arithmetic: indices stay below `count`, and the overflow checks
                    // were a fifth of the loop's instructions.
                    var chosen = -1
                    var minimum: UInt64 = 0
                    var end = width
                    while end <= count {
                        let start = end &- width
                        let newest = values[end &- 1]
                        if chosen < start {
                            // The previous minimum left the window: rescan it.
                            chosen = start
                            minimum = values[start]
                            var index = start &+ 1
                            while index < end {
                                if values[index] <= minimum { chosen = index; minimum = values[index] }
                                index &+= 1
                            }
                        } else if newest <= minimum {
                            chosen = end &- 1
                            minimum = newest
                        } else {
                            end &+= 1
                            continue
                        }
                        // A rescan can find the minimum already kept.
                        if kept == 0 || keptPositions[kept &- 1] != UInt32(truncatingIfNeeded: chosen) {
                            keptHashes[kept] = minimum
                            keptPositions[kept] = UInt32(truncatingIfNeeded: chosen)
                            kept &+= 1
                        }
                        end &+= 1
                    }
                }
            }
        }
        hashes.removeSubrange(kept...)
        positions.removeSubrange(kept...)
    }
}
