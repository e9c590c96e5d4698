/// The null sample that calibrates the evidence scores of an index (`NullModel`): references of
/// the index itself, each matched against the groups of other vendors (`Matcher.nullScore`);
/// where the references name their prompts, those that answer a prompt some group of another
/// vendor answers too.
///
/// A reference answers a prompt that other models' references often answer too, in the same
/// register and with the same stock phrases: as close as a text gets to a reference without
/// being a copy of it. (Background text would not do: its k-grams are made common by the build.)
enum NullSample {
    /// References scored at most: a stride over the groups beyond this many.
    static let defaultLimit = 20_000
    /// Shorter references are left out: they never give evidence, and counting them would make
    /// the null look emptier than the texts a verdict is about.
    static let minimumTokens = 20

    /// Groups answering a prompt that a group of another vendor answers too, when there are
    /// enough of them: the null texts then are other vendors' answers to the same prompts, the
    /// hardest unrelated texts and the ones a corpus's negatives are (references with no such
    /// peer share almost nothing with the rest and would make the null look emptier). Otherwise
    /// all groups. `vendorOf(group)` is the vendor code of a group's representative.
    static func groups(promptKeys: [UInt64], groupOf: [UInt32], groupCount: Int, vendorOf: (Int) -> Int) -> [Int] {
        var pairs = zip(promptKeys, groupOf).filter { $0.0 != 0 }.map { (key: $0.0, group: $0.1) }
        pairs.sort { $0.key != $1.key ? $0.key < $1.key : $0.group < $1.group }
        var hasPeer = [Bool](repeating: false, count: groupCount)
        var start = 0
        while start < pairs.count {
            var end = start
            while end < pairs.count && pairs[end].key == pairs[start].key { end += 1 }
            let vendors = Set(pairs[start..<end].map { vendorOf(Int($0.group)) })
            if vendors.count > 1 {
                for pair in pairs[start..<end] { hasPeer[Int(pair.group)] = true }
            }
            start = end
        }
        let peered = (0..<groupCount).filter { hasPeer[$0] }
        return peered.count >= minimumPeeredGroups ? peered : Array(0..<groupCount)
    }

    /// Fewer groups with prompt peers than this, and the null sample takes all groups.
    static let minimumPeeredGroups = 200

    /// The best score of each sampled group's representative (among `groups`) against the groups
    /// of other vendors, with the representative's length in tokens, in group order.
    static func scores(index: ReferenceIndex, groups: [Int], limit: Int, threads: Int) -> [(score: Double, tokens: Int)] {
        let eligible = groups.filter { index.tokenCount(ofGroup: $0) >= minimumTokens }
        let stride = max(1, (eligible.count + limit - 1) / max(limit, 1))
        let sample = Swift.stride(from: 0, to: eligible.count, by: stride).map { eligible[$0] }
        let matcher = Matcher(index: index, options: MatchOptions(), markers: [])
        return Parallel.map(count: sample.count, threads: threads,
                            makeState: { (matcher: Matcher.Scratch(), texts: TextCodec.Context(.decompression)) }) { state, position in
            let group = sample[position]
            let tokens = index.tokenCount(ofGroup: group)
            guard var text = index.text(ofReference: index.representative(ofGroup: group), context: state.texts) else { return (0, tokens) }
            return (text.withUTF8 { matcher.nullScore(ofGroup: group, text: $0, scratch: &state.matcher) }, tokens)
        }
    }
}
