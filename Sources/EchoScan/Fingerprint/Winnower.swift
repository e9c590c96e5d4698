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
        hashes.removeAll(keepingCapacity: true)
        positions.removeAll(keepingCapacity: true)
        let count = shingles.count
        guard count > 0 else { return }
        let width = min(window, count)
        shingles.withUnsafeBufferPointer { values in
            var chosen = -1
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
                if positions.last != UInt32(chosen) {
                    hashes.append(values[chosen])
                    positions.append(UInt32(chosen))
                }
            }
        }
    }
}
