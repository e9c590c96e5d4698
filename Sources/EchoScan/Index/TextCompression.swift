/// The build's pass over the references' plain texts (spilled by `ReferenceSpill`): a dictionary
/// trained on an even stride of them, then every text compressed with it, in parallel, into the
/// index's texts section, with each frame's offset and length for the reference records.
struct TextCompression {
    let texts: ScratchFile
    let offsets: [UInt64]
    let lengths: [UInt32]
    let dictionary: TextCodec.Dictionary?

    /// Texts compressed together by the workers, then written in order.
    static let chunk = 4096

    init(plainTexts: String, references: String, count: Int, threads: Int, output path: String) throws {
        let plain = try MappedFile.scratch(plainTexts)
        let records = try MappedFile.scratch(references)
        @Sendable func text(_ reference: Int) -> UnsafeRawBufferPointer {
            let record = IndexFormat.ReferenceRecord(records.bytes, number: reference)
            let offset = Int(record.textOffset)
            return UnsafeRawBufferPointer(rebasing: plain.bytes[offset..<(offset + Int(record.textLength))])
        }
        // An even stride over all references, so that every model's texts are in the sample.
        let totalBytes = plain.bytes.count
        let stride = max(1, Int((Double(totalBytes) / Double(TextCodec.sampleBytes)).rounded(.up)))
        let samples = Swift.stride(from: 0, to: count, by: stride).map(text).filter { !$0.isEmpty }
        let dictionary = TextCodec.trainDictionary(samples: samples)
        let output = try ScratchFile(path: path)
        var offsets: [UInt64] = []
        var lengths: [UInt32] = []
        offsets.reserveCapacity(count)
        lengths.reserveCapacity(count)
        for start in Swift.stride(from: 0, to: count, by: Self.chunk) {
            let end = min(count, start + Self.chunk)
            let frames = Parallel.map(count: end - start, threads: threads, makeState: { TextCodec.Context(.compression) }) { context, index in
                TextCodec.compress(text(start + index), dictionary: dictionary, context: context)
            }
            for frame in frames {
                offsets.append(UInt64(output.count))
                lengths.append(UInt32(frame.count))
                output.write(frame)
            }
        }
        try output.close()
        texts = output
        self.offsets = offsets
        self.lengths = lengths
        self.dictionary = dictionary
    }
}
