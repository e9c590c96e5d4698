/// The null sample that calibrates the evidence scores of an index (`NullModel`): references of
/// the index itself, each matched against all the groups but its own.
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

    /// The best score of each sampled group's representative against the other groups, in group order.
    static func scores(index: ReferenceIndex, limit: Int, threads: Int) -> [Double] {
        let eligible = (0..<index.groupCount).filter { index.tokens(ofGroup: $0).count >= minimumTokens }
        let stride = max(1, (eligible.count + limit - 1) / max(limit, 1))
        let sample = Swift.stride(from: 0, to: eligible.count, by: stride).map { eligible[$0] }
        let matcher = Matcher(index: index, options: MatchOptions(), markers: [])
        return Parallel.map(count: sample.count, threads: threads, makeState: { Matcher.Scratch() }) { scratch, position in
            let group = sample[position]
            guard let text = index.text(ofReference: index.representative(ofGroup: group)) else { return 0 }
            var bytes = Array(text.utf8)
            return bytes.withUnsafeMutableBufferPointer { matcher.nullScore(ofGroup: group, text: UnsafeBufferPointer($0), scratch: &scratch) }
        }
    }
}
