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
                    var chosen = -1
                    var lastKept = -1
                    for start in 0...(count - width) {
                        let end = start + width
                        if chosen < start {
                            // The previous minimum left the window: rescan it.
                            chosen = start
                            for index in start..<end where values[index] <= values[chosen] { chosen = index }
                        } else if values[end - 1] <= values[chosen] {
                            chosen = end - 1
                        } else {
                            continue
                        }
                        if chosen != lastKept {
                            keptHashes[kept] = values[chosen]
                            keptPositions[kept] = UInt32(chosen)
                            kept += 1
                            lastKept = chosen
                        }
                    }
                }
            }
        }
        hashes.removeSubrange(kept...)
        positions.removeSubrange(kept...)
    }
}
