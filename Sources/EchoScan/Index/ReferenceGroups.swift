/// References grouped as exact duplicates (same token sequence) or near-duplicates (MinHash
/// similarity at least the grouping threshold among LSH candidates). Groups are ordered by their
/// first member, which represents them; memory is a few integers per reference.
struct ReferenceGroups {
    /// The group of each reference.
    private(set) var groupOf: [UInt32]
    /// The first member of each group.
    private(set) var representatives: [UInt32] = []
    /// Members grouped, each group's in input order: group g's are
    /// `members[memberStarts[g]..<memberStarts[g + 1]]`.
    private(set) var members: [UInt32]
    private(set) var memberStarts: [UInt32]

    var count: Int { representatives.count }

    /// Groups `count` references from the sorted (content hash, reference) and
    /// (band hash, band << 40 | reference) entries of a `ReferenceSpill`.
    init(count: Int, exact: SortedEntries, bands: SortedEntries, fingerprints: SpilledFingerprints, threshold: Double) throws {
        var sets = UnionFind(count: count)
        var first: Int? = nil
        var firstKey: UInt64 = 0
        while let entry = try exact.next() {
            let reference = Int(entry.value)
            if let head = first, entry.key == firstKey {
                if fingerprints.tokens(head).elementsEqual(fingerprints.tokens(reference)) { sets.union(head, reference) }
            } else {
                first = reference
                firstKey = entry.key
            }
        }
        // Within an LSH bucket, all pairs among the first 32 members, and every later member
        // against those 32: large buckets of boilerplate stay linear.
        let referenceMask = (UInt64(1) << ReferenceSpill.referenceBits) - 1
        var bucket: (hash: UInt64, band: UInt64)? = nil
        var head: [Int] = []
        while let entry = try bands.next() {
            let band = entry.value >> ReferenceSpill.referenceBits
            let reference = Int(entry.value & referenceMask)
            guard let current = bucket, current == (entry.key, band) else {
                bucket = (entry.key, band)
                head = [reference]
                continue
            }
            for other in head where sets.find(other) != sets.find(reference) {
                if MinHasher.similarity(fingerprints.signature(other), fingerprints.signature(reference)) >= threshold {
                    sets.union(other, reference)
                }
            }
            if head.count < 32 { head.append(reference) }
        }

        groupOf = [UInt32](repeating: 0, count: count)
        var groupOfRoot = [Int32](repeating: -1, count: count)
        var sizes: [UInt32] = []
        for reference in 0..<count {
            let root = sets.find(reference)
            if groupOfRoot[root] < 0 {
                groupOfRoot[root] = Int32(representatives.count)
                representatives.append(UInt32(reference))
                sizes.append(0)
            }
            let group = Int(groupOfRoot[root])
            groupOf[reference] = UInt32(group)
            sizes[group] += 1
        }
        memberStarts = [0]
        memberStarts.reserveCapacity(sizes.count + 1)
        for size in sizes { memberStarts.append(memberStarts[memberStarts.count - 1] + size) }
        members = [UInt32](repeating: 0, count: count)
        var next = memberStarts
        for reference in 0..<count {
            let group = Int(groupOf[reference])
            members[Int(next[group])] = UInt32(reference)
            next[group] += 1
        }
    }

    func isRepresentative(_ reference: Int) -> Bool {
        representatives[Int(groupOf[reference])] == reference
    }

    func members(of group: Int) -> ArraySlice<UInt32> {
        members[Int(memberStarts[group])..<Int(memberStarts[group + 1])]
    }
}
