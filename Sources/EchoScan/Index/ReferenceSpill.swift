/// The first pass of an index build: each batch of references is fingerprinted in parallel and
/// written out at once — records, ids, texts, token hashes and signatures to scratch
/// files; content hashes, band hashes, k-grams and prompt k-grams to on-disk sorters — so that
/// memory holds one batch, whatever the size of the reference set.
struct ReferenceSpill {
    /// What the first pass keeps of one reference.
    struct Fingerprinted: Sendable {
        var tokens: [UInt64]
        var signature: [UInt32]
        var bandHashes: [UInt64]
        /// Distinct k-gram hashes, sorted.
        var shingles: [UInt64]
        /// Distinct winnowed k-gram hashes, sorted.
        var winnowed: [UInt64]
        /// k-grams of the prompt the reference answers.
        var promptShingles: [UInt64]
        /// Hash of the prompt's tokens (0 for none): which references answer the same prompt.
        var promptKey: UInt64 = 0
    }

    /// Scratch file names, in the build's scratch folder.
    enum Name {
        static let references = "references.bin", strings = "strings.bin", texts = "texts.bin"
        static let tokens = "tokens.bin", tokenStarts = "token-starts.bin", signatures = "signatures.bin"
    }

    let fingerprinter: Fingerprinter
    let banding: LSHBanding
    let threads: Int
    private(set) var names = NameTable()
    private(set) var referenceCount = 0
    private(set) var textBytes = 0
    /// Per reference, its `Fingerprinted.promptKey`.
    private(set) var promptKeys: [UInt64] = []
    private var tokenCount = 0

    /// `IndexFormat.ReferenceRecord`s with group 0 (groups are known after the pass).
    let references: ScratchFile
    let strings: ScratchFile
    let texts: ScratchFile
    let tokens: ScratchFile
    /// u64 start of each reference's tokens in `tokens`, plus the end.
    let tokenStarts: ScratchFile
    let signatures: ScratchFile
    /// (hash of the token sequence, reference): exact duplicates.
    var exact: ExternalSorter
    /// (band hash, band << 40 | reference): LSH buckets.
    var bands: ExternalSorter
    /// (k-gram, reference), distinct per reference: document frequencies.
    var shingles: ExternalSorter
    /// (winnowed k-gram, reference), distinct per reference: postings.
    var winnowed: ExternalSorter
    /// (prompt k-gram, 0): common k-grams.
    var prompts: ExternalSorter

    static let referenceBits: UInt64 = 40

    init(folder: String, parameters: FingerprintParameters, sortEntries: Int, threads: Int) throws {
        fingerprinter = Fingerprinter(parameters: parameters)
        banding = parameters.banding
        self.threads = threads
        func file(_ name: String, section: Bool = false) throws -> ScratchFile {
            try ScratchFile(path: folder + "/" + name, checksummed: section)
        }
        references = try file(Name.references)
        strings = try file(Name.strings, section: true)
        texts = try file(Name.texts)
        tokens = try file(Name.tokens)
        tokenStarts = try file(Name.tokenStarts)
        signatures = try file(Name.signatures)
        func sorter(_ name: String) -> ExternalSorter { ExternalSorter(directory: folder, name: name, runEntries: sortEntries) }
        exact = sorter("exact")
        bands = sorter("bands")
        shingles = sorter("shingles")
        winnowed = sorter("winnowed")
        prompts = sorter("prompts")
    }

    /// Fingerprints `batch` (read from `path`) in parallel and spills it. `extras` of each document
    /// are model and vendor; a document without a vendor takes the one `vendors` names.
    mutating func add(_ batch: DocumentBatch, path: String, vendors: VendorTable) throws {
        let fingerprinter = fingerprinter
        let banding = banding
        let fingerprinted = Parallel.map(count: batch.documents.count, threads: threads,
                                         makeState: { DocumentFingerprint() }) { scratch, index in
            let document = batch.documents[index]
            batch.withText(of: document) { fingerprinter.fingerprint($0, into: &scratch) }
            // Copies, not the scratch buffers themselves: a shared buffer would keep the scratch's
            // capacity (the longest text so far) alive for every reference of the batch.
            var result = Fingerprinted(
                tokens: scratch.tokens.hashes.withUnsafeBufferPointer(Array.init),
                signature: scratch.signature.withUnsafeBufferPointer(Array.init),
                bandHashes: scratch.signature.withUnsafeBufferPointer { signature in
                    (0..<banding.bands).map { banding.bandHash(signature, band: $0) }
                },
                shingles: Self.distinct(scratch.shingles), winnowed: Self.distinct(scratch.winnowedHashes),
                promptShingles: [])
            if var prompt = document.prompt, !prompt.isEmpty {
                prompt.withUTF8 { fingerprinter.fingerprint($0, into: &scratch, parts: []) }
                result.promptShingles = scratch.shingles.withUnsafeBufferPointer(Array.init)
                result.promptKey = scratch.tokens.count > 0 ? StableHash.sequence(scratch.tokens.hashes) : 0
            }
            return result
        }
        // A record whose paths selected no string (a chat without an assistant turn) has none.
        for (document, reference) in zip(batch.documents, fingerprinted) where document.field != nil {
            let number = UInt64(referenceCount)
            // An assistant turn is known as its record's id and its position.
            let record = document.id ?? "\(path):\(document.line)"
            let id = Array((document.turn.map { record + "#\($0)" } ?? record).utf8)
            let model = document.extras[0] ?? "unknown"
            // No group yet, and the text's offset in the scratch file of plain texts: the
            // reference table puts in the group and the text's zstd frame (`TextCompression`).
            IndexFormat.ReferenceRecord(group: 0, model: UInt16(names.models.intern(model)),
                                        vendor: UInt16(names.vendors.intern(document.extras[1] ?? vendors.vendor(ofModel: model))),
                                        idOffset: UInt32(strings.count), idLength: UInt32(id.count), textOffset: UInt64(texts.count),
                                        textCompressedLength: 0, textLength: UInt32(document.textRange.count)).write(to: references)
            strings.write(id)
            batch.withText(of: document) { texts.write(UnsafeRawBufferPointer($0)) }
            tokenStarts.append(UInt64(tokenCount))
            tokens.append(contentsOf: reference.tokens)
            signatures.append(contentsOf: reference.signature)
            try exact.append(StableHash.sequence(reference.tokens), number)
            if !reference.tokens.isEmpty {
                for (band, hash) in reference.bandHashes.enumerated() {
                    try bands.append(hash, UInt64(band) << Self.referenceBits | number)
                }
            }
            for hash in reference.shingles { try shingles.append(hash, number) }
            for hash in reference.winnowed { try winnowed.append(hash, number) }
            for hash in reference.promptShingles { try prompts.append(hash, 0) }
            promptKeys.append(reference.promptKey)
            tokenCount += reference.tokens.count
            textBytes += document.textRange.count
            referenceCount += 1
        }
    }

    /// Closes the scratch files (the sorters are read by the next steps).
    mutating func finish() throws {
        tokenStarts.append(UInt64(tokenCount))
        for file in [references, strings, texts, tokens, tokenStarts, signatures] { try file.close() }
    }

    static func distinct(_ hashes: [UInt64]) -> [UInt64] {
        var result = hashes.sorted()
        result.removeAdjacentDuplicates()
        return result
    }
}

/// Interned model and vendor names, numbered in order of first appearance.
struct NameTable {
    struct Interner {
        private(set) var names: [String] = []
        private var numbers: [String: Int] = [:]
        mutating func intern(_ name: String) -> Int {
            if let number = numbers[name] { return number }
            numbers[name] = names.count
            names.append(name)
            return names.count - 1
        }
    }
    var models = Interner()
    var vendors = Interner()
}

/// Token hashes and signatures of the spilled references, read back through memory maps.
struct SpilledFingerprints {
    private let tokenFile: MappedFile
    private let startFile: MappedFile
    private let signatureFile: MappedFile
    private let tokenHashes: UnsafeBufferPointer<UInt64>
    private let tokenStarts: UnsafeBufferPointer<UInt64>
    private let signatures: UnsafeBufferPointer<UInt32>
    let permutations: Int

    init(folder: String, permutations: Int) throws {
        tokenFile = try .scratch(folder + "/" + ReferenceSpill.Name.tokens)
        startFile = try .scratch(folder + "/" + ReferenceSpill.Name.tokenStarts)
        signatureFile = try .scratch(folder + "/" + ReferenceSpill.Name.signatures)
        tokenHashes = tokenFile.bytes.bindMemory(to: UInt64.self)
        tokenStarts = startFile.bytes.bindMemory(to: UInt64.self)
        signatures = signatureFile.bytes.bindMemory(to: UInt32.self)
        self.permutations = permutations
    }

    func tokens(_ reference: Int) -> UnsafeBufferPointer<UInt64> {
        UnsafeBufferPointer(rebasing: tokenHashes[Int(tokenStarts[reference])..<Int(tokenStarts[reference + 1])])
    }

    func signature(_ reference: Int) -> UnsafeBufferPointer<UInt32> {
        UnsafeBufferPointer(rebasing: signatures[reference * permutations..<(reference + 1) * permutations])
    }
}
