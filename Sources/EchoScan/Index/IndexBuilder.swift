import Foundation
import CZlib

/// How a reference index is built.
public struct IndexBuildOptions: Sendable {
    public var parameters = FingerprintParameters()
    /// A k-gram in more reference groups than this is common and carries no evidence. 1: wording
    /// that two answers share is what a model may write again; what a copy shares with its source
    /// alone is evidence. With the null sample calibrated leaving its own reference out, 1 found
    /// more copies than 2 at the same measured false-match rate on other vendors' answers
    /// (scripts/eval-quality.sh, SEED=555: recall 0.89 against 0.84 at a rate of 0.001, other
    /// vendors' answers flagged at 0.08% with both).
    public var maximumDocumentFrequency = 1
    /// References whose MinHash similarity reaches this are one group (near-duplicates).
    public var groupingThreshold = 0.9
    /// How references are read: their text paths (every selected string is a reference, an
    /// assistant turn `<record id>#<turn>`) and their prompts, whose k-grams are common: text a
    /// model copies from its prompt is not the model's own.
    public var reader: ReaderOptions = {
        var reader = ReaderOptions()
        reader.promptPaths = [FieldPath(key: "prompt")]
        return reader
    }()
    public var modelPath = FieldPath(key: "model")
    /// A record's vendor; without one, the vendor table names it from the model.
    public var vendorPath = FieldPath(key: "vendor")
    public var vendors = VendorTable.standard
    public var threads = ProcessInfo.processInfo.activeProcessorCount
    /// Memory for sorting k-grams and band hashes; beyond it, sorted runs spill to disk.
    public var sortMemoryBytes = 256 << 20
    /// References in the null sample that calibrates the evidence scores (`NullSample`).
    public var nullSampleLimit = NullSample.defaultLimit
    /// The style detector's training (`StyleTrainer`).
    public var style = StyleTrainingOptions()
    /// Folder for scratch files ("" = the output's folder); needs about 40 bytes per token.
    public var scratchDirectory = ""

    public init() {}

    /// Takes the parameters and thresholds an index was built with, for a segment to add to it
    /// or a rebuild of it.
    public mutating func adopt(_ metadata: IndexMetadata) {
        parameters = metadata.parameters
        maximumDocumentFrequency = metadata.maximumDocumentFrequency
        groupingThreshold = metadata.groupingThreshold
    }
}

/// What a build did, for the command line and the closing report.
public struct IndexBuildReport: Sendable {
    public var metadata: IndexMetadata
    public var referenceBytes: Int
    public var indexBytes: Int
    public var seconds: Double
    public var warnings: [ShardError]
}

/// Builds a reference index file from JSONL reference files (see `IndexFormat`) with memory
/// bounded by one read batch, the sort budget and a few integers per reference.
///
/// Passes: (1) read and fingerprint every reference in parallel batches, spilling texts, tokens
/// and signatures to scratch files and content hashes, band hashes and k-grams to on-disk sorters
/// (`ReferenceSpill`); (2) group exact and near-duplicates from the sorted hashes
/// (`ReferenceGroups`); (3) merge the sorted k-grams of the groups' representatives with the
/// sorted background and prompt k-grams into document frequencies and the common k-grams; (4)
/// merge the sorted winnowed k-grams with the common ones into postings; (5) write each section
/// to a scratch file and copy them into one index file, written to a temporary name and renamed.
public struct IndexBuilder {
    public let options: IndexBuildOptions

    public init(options: IndexBuildOptions = IndexBuildOptions()) {
        self.options = options
    }

    /// Sorters alive at once during the first pass (five for references, one for background).
    private static let concurrentSorters = 6

    /// Builds the index of `references` at `output`. With `earlier`, the index is a segment to
    /// add to that index (`SegmentedIndex`): its k-grams' rarity is counted over the earlier
    /// segments' groups too, and it lists the earlier k-grams it makes common.
    public func build(references: [String], background: [String] = [], output: String,
                      earlier: SegmentedIndex? = nil) throws -> IndexBuildReport {
        let started = Date()
        let parameters = options.parameters
        let folder = try Self.makeScratchFolder(for: output, in: options.scratchDirectory)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // One more run's worth for the radix sort's second buffer while a run spills.
        let sortEntries = max(1 << 10, options.sortMemoryBytes / 16 / (Self.concurrentSorters + 1))

        var warnings: [ShardError] = []
        var sources: [IndexMetadata.Source] = []
        var skipped = 0
        var reader = options.reader
        reader.extraPaths = [options.modelPath, options.vendorPath]
        reader.computeSHA256 = true
        var spill = try ReferenceSpill(folder: folder, parameters: parameters, sortEntries: sortEntries, threads: options.threads)
        var style = options.style.enabled ? StyleTrainer(options: options.style) : nil
        for (index, path) in references.enumerated() {
            let result = try ShardReader(path: path, shardIndex: index, options: reader).read { batch in
                try spill.add(batch, path: path, vendors: options.vendors)
                guard style != nil else { return }
                let vectors = StyleTrainer.vectors(of: batch, tokenizer: Tokenizer(seed: parameters.seed), threads: options.threads, prompts: true)
                for (document, vector) in zip(batch.documents, vectors) where document.field != nil {
                    let model = document.extras[0] ?? "unknown"
                    style?.addReference(vector, model: model, vendor: document.extras[1] ?? options.vendors.vendor(ofModel: model))
                }
            }
            if let fatal = result.fatalError { throw fatal }
            warnings += result.errors
            skipped += result.badLines
            sources.append(.init(path: path, sha256: result.sha256 ?? "", bytes: result.compressedBytes, records: result.documents))
        }
        try spill.finish()
        let compressed = try TextCompression(plainTexts: spill.texts.path, references: spill.references.path, count: spill.referenceCount,
                                             threads: options.threads, output: folder + "/compressed-texts.bin")
        var backgroundSources: [IndexMetadata.Source] = []
        var backgroundSorter = ExternalSorter(directory: folder, name: "background", runEntries: sortEntries)
        try addBackground(background, to: &backgroundSorter, sources: &backgroundSources, style: &style)

        let fingerprints = try SpilledFingerprints(folder: folder, permutations: parameters.permutations)
        let groups = try ReferenceGroups(count: spill.referenceCount, exact: try spill.exact.sorted(), bands: try spill.bands.sorted(),
                                     fingerprints: fingerprints, threshold: options.groupingThreshold)
        var earlierKGrams: SortedEntries? = nil
        var duplicates: [Bool] = []
        if let earlier {
            duplicates = Self.groupsDuplicating(earlier, groups: groups, fingerprints: fingerprints, threshold: options.groupingThreshold)
            earlierKGrams = try Self.kGrams(of: earlier, sharedWith: groups, fingerprints: fingerprints, folder: folder,
                                            sortEntries: sortEntries)
        }
        let common = try commonKGrams(shingles: try spill.shingles.sorted(), background: try backgroundSorter.sorted(),
                                      prompts: try spill.prompts.sorted(), earlier: earlierKGrams, duplicates: duplicates,
                                      groups: groups, folder: folder)
        let commonFile = try MappedFile.scratch(common.file.path)
        let commonHashes = commonFile.bytes.bindMemory(to: UInt64.self)
        let borderlineFile = try MappedFile.scratch(common.borderline.path)
        let borderlineHashes = borderlineFile.bytes.bindMemory(to: UInt64.self)
        let postings = try Postings(winnowed: try spill.winnowed.sorted(), common: commonHashes, borderline: borderlineHashes,
                                    groups: groups, folder: folder)

        let file = IndexFileWriter()
        let metadata = IndexMetadata(
            formatVersion: Int(IndexFormat.version), echoscanVersion: EchoScanVersion.current, parameters: parameters,
            bands: parameters.banding.bands, rows: parameters.banding.rows, maximumDocumentFrequency: options.maximumDocumentFrequency,
            groupingThreshold: options.groupingThreshold, sources: sources, backgroundSources: backgroundSources,
            models: spill.names.models.names, vendors: spill.names.vendors.names, referenceCount: spill.referenceCount,
            groupCount: groups.count, postingCount: postings.count, commonByFrequency: common.byFrequency,
            commonByBackground: common.byBackground, commonByPrompt: common.byPrompt, skippedRecords: skipped)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        file.add(.metadata, bytes: Array(try encoder.encode(metadata)), count: 1)
        file.add(.references, file: try referenceTable(spill.references.path, groups: groups, texts: compressed, folder: folder),
                 count: spill.referenceCount)
        file.add(.strings, file: spill.strings, count: spill.strings.count)
        file.add(.texts, file: compressed.texts, count: spill.referenceCount)
        file.add(.textDictionary, bytes: compressed.dictionary?.bytes ?? [], count: 1)
        try addGroupSections(to: file, groups: groups, fingerprints: fingerprints, common: commonHashes,
                             borderline: borderlineHashes, folder: folder)
        let bands = try bandTable(groups: groups, fingerprints: fingerprints, folder: folder, sortEntries: sortEntries)
        file.add(.bands, file: bands.table, count: parameters.banding.bands * groups.count)
        file.add(.postingKeys, file: postings.shortKeys, count: postings.count)
        file.add(.postingGroups, file: postings.groups, count: postings.count)
        file.add(.postingDirectory, file: postings.directory, count: postings.directoryCount)
        file.add(.postingFilter, bytes: postings.filter.bytes, count: 1)
        try addBandLookUpSections(to: file, bandHashes: bands.hashes.path, groups: groups.count)
        if earlier != nil {
            file.add(.commonInEarlierSegments, file: common.inEarlierSegments,
                     count: common.inEarlierSegments.count / MemoryLayout<UInt64>.size)
        }

        // The null sample is scored against the index itself: written once without it, opened,
        // scored, then written with it.
        file.add(.nullScores, bytes: [], count: 0)
        let uncalibrated = folder + "/uncalibrated.idx"
        _ = try file.write(to: uncalibrated)
        let uncalibratedIndex = try ReferenceIndex(path: uncalibrated)
        // A segment is calibrated by its base's sample (`SegmentedIndex`).
        let nullScores = earlier != nil ? [] : NullSample.scores(
            index: uncalibratedIndex,
            groups: NullSample.groups(promptKeys: spill.promptKeys, groupOf: groups.groupOf, groupCount: groups.count,
                                      vendorOf: uncalibratedIndex.vendorCode(ofGroup:)),
            limit: options.nullSampleLimit, threads: options.threads)
        if var trained = style?.finish(threads: options.threads), let trainer = style {
            trained.header.phrases = Self.namePhrases(trained.phraseBuckets, trainer: trainer, index: uncalibratedIndex,
                                                      limit: options.style.phraseCount)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            file.add(.styleModel, bytes: Array(try encoder.encode(trained.header)), count: 1)
            file.add(.styleWeights, bytes: trained.weights, count: StyleFeatures.bucketCount)
        }
        try? FileManager.default.removeItem(atPath: uncalibrated)
        // Sorted by score, then length; the lengths in that order in their own section.
        let sample = nullScores.sorted { $0.score != $1.score ? $0.score < $1.score : $0.tokens < $1.tokens }
        var encoded = BinaryBuffer()
        for draw in sample { encoded.append(draw.score.bitPattern) }
        file.add(.nullScores, bytes: encoded.bytes, count: sample.count)
        var lengths = BinaryBuffer()
        for draw in sample { lengths.append(UInt32(clamping: draw.tokens)) }
        file.add(.nullLengths, bytes: lengths.bytes, count: sample.count)
        let written = try file.write(to: output)
        // A segment list beside the output belongs to the index this one replaces.
        if earlier == nil { try? FileManager.default.removeItem(atPath: SegmentList.path(forIndex: output)) }
        return IndexBuildReport(metadata: metadata, referenceBytes: spill.textBytes, indexBytes: written,
                                seconds: Date().timeIntervalSince(started), warnings: warnings)
    }

    /// The words behind the style model's phrase buckets, the most frequent in the references'
    /// texts (a stride of at most 5,000 of them), in the order of `buckets`.
    static func namePhrases(_ buckets: [UInt32], trainer: StyleTrainer, index: ReferenceIndex, limit: Int) -> [StyleModel.Phrase] {
        let wanted = Set(buckets)
        var counts: [UInt32: [String: Int]] = [:]
        let tokenizer = Tokenizer(seed: index.parameters.seed)
        var tokens = TokenSequence()
        let context = TextCodec.Context(.decompression)
        for reference in stride(from: 0, to: index.referenceCount, by: max(1, index.referenceCount / 5_000)) {
            guard var text = index.text(ofReference: reference, context: context) else { continue }
            text.withUTF8 { text in
                tokenizer.tokenize(text, into: &tokens)
                StyleFeatures.countNames(wanted, in: text, tokens: tokens, counts: &counts)
            }
        }
        return buckets.compactMap { bucket in
            let name = counts[bucket]?.max { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }?.key
            return name.map { StyleModel.Phrase(text: $0, bucket: bucket, humanRate: trainer.humanRate(of: bucket)) }
        }.prefix(limit).map { $0 }
    }

    /// A fresh scratch folder beside the output (or in `directory`), removed by the caller.
    static func makeScratchFolder(for output: String, in directory: String) throws -> String {
        let parent = directory.isEmpty ? (URL(fileURLWithPath: output).deletingLastPathComponent().path) : directory
        let folder = parent + "/.echoscan-index-build-\(ProcessInfo.processInfo.processIdentifier)"
        try? FileManager.default.removeItem(atPath: folder)
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw ScratchError(path: folder, reason: error.localizedDescription)
        }
        return folder
    }

    /// Every k-gram of the background (human) texts: a reference k-gram found there is ordinary
    /// language, not evidence of a model.
    func addBackground(_ paths: [String], to sorter: inout ExternalSorter, sources: inout [IndexMetadata.Source],
                       style: inout StyleTrainer?) throws {
        let fingerprinter = Fingerprinter(parameters: options.parameters)
        var reader = options.reader
        reader.computeSHA256 = true
        for (index, path) in paths.enumerated() {
            let result = try ShardReader(path: path, shardIndex: index, options: reader).read { batch in
                let shingles = Parallel.map(count: batch.documents.count, threads: options.threads,
                                            makeState: { DocumentFingerprint() }) { scratch, index in
                    batch.withText(of: batch.documents[index]) { fingerprinter.fingerprint($0, into: &scratch, parts: []) }
                    return scratch.shingles.withUnsafeBufferPointer(Array.init)  // a copy: see ReferenceSpill.add
                }
                for hashes in shingles { for hash in hashes { try sorter.append(hash, 0) } }
                guard style != nil else { return }
                for (document, vector) in zip(batch.documents, StyleTrainer.vectors(of: batch, tokenizer: fingerprinter.tokenizer, threads: options.threads, prompts: false))
                where document.field != nil {
                    style?.addHuman(vector)
                }
            }
            if let fatal = result.fatalError { throw fatal }
            sources.append(.init(path: path, sha256: result.sha256 ?? "", bytes: result.compressedBytes, records: result.documents))
        }
    }

    /// Which of the new groups are near-duplicates (at the grouping threshold) of a group of an
    /// earlier segment, found through the earlier segments' LSH bands.
    static func groupsDuplicating(_ earlier: SegmentedIndex, groups: ReferenceGroups, fingerprints: SpilledFingerprints,
                                  threshold: Double) -> [Bool] {
        let banding = earlier.base.banding
        return groups.representatives.map { representative in
            let signature = fingerprints.signature(Int(representative))
            for segment in earlier.segments {
                var found = false
                for band in 0..<banding.bands where !found {
                    segment.bandMatches(band: band, hash: banding.bandHash(signature, band: band)) { other in
                        if !found && MinHasher.similarity(signature, lowBits: segment.signature(ofGroup: other)) >= threshold { found = true }
                    }
                }
                if found { return true }
            }
            return false
        }
    }

    /// The earlier segments' k-grams that the new groups' representatives may hold too, one
    /// entry per earlier group that holds one, sorted. Only those count for the new segment, and
    /// the earlier segments' k-grams are many: a filter over the new k-grams (a few bits each)
    /// keeps the rest out of the sort, so that an add sorts about what it adds.
    static func kGrams(of earlier: SegmentedIndex, sharedWith groups: ReferenceGroups, fingerprints: SpilledFingerprints,
                       folder: String, sortEntries: Int) throws -> SortedEntries {
        var sorter = ExternalSorter(directory: folder, name: "earlier", runEntries: sortEntries)
        let shingler = Fingerprinter(parameters: earlier.parameters).shingler
        var shingles: [UInt64] = []
        let newTokens = groups.representatives.reduce(0) { $0 + fingerprints.tokens(Int($1)).count }
        let newKGrams = groups.representatives.lazy.flatMap { representative -> [UInt64] in
            shingler.shingles(of: fingerprints.tokens(Int(representative)), into: &shingles)
            return shingles
        }
        let wanted = BlockedBloomFilter(newKGrams, count: max(1, newTokens), bitsPerHash: IndexFormat.postingFilterBits)
        var tokens: [UInt64] = []
        for segment in earlier.segments {
            for group in 0..<segment.groupCount {
                guard segment.tokens(ofGroup: group, into: &tokens) else {
                    throw IndexError(path: segment.path, reason: "the tokens of group \(group) do not decode (damaged file)")
                }
                guard !tokens.isEmpty else { continue }
                shingler.shingles(of: tokens, into: &shingles)
                shingles.sort()
                var previous: UInt64? = nil
                for hash in shingles where hash != previous {
                    previous = hash
                    if wanted.mightContain(hash) { try sorter.append(hash, 0) }
                }
            }
        }
        return try sorter.sorted()
    }

    /// The smaller of two keys of merged streams, either of which may have ended.
    @inline(__always)
    static func smaller(_ first: UInt64?, _ second: UInt64?) -> UInt64? {
        guard let first else { return second }
        guard let second else { return first }
        return min(first, second)
    }

    /// The common k-grams, sorted, in a scratch file, with how many were judged common for each
    /// reason; and, in a second file, the *borderline* ones: common only by frequency, in exactly
    /// `maximumDocumentFrequency + 1` groups. For a reference of one of those groups in the null
    /// sample, such a k-gram is in `maximumDocumentFrequency` groups besides its own — as it is for
    /// a document of the corpus that shares it — and so carries evidence (`NullSample`).
    struct CommonKGrams {
        var file: ScratchFile
        var borderline: ScratchFile
        /// For a segment: the earlier segments' k-grams that its references make common (u64).
        var inEarlierSegments: ScratchFile
        var count = 0
        var byFrequency = 0
        var byBackground = 0
        var byPrompt = 0
    }

    /// Common k-grams: those of the representatives' k-grams found in more than
    /// `maximumDocumentFrequency` groups, in the background text, or in a prompt — one merge of
    /// three sorted streams. For a segment, a fourth: the earlier segments' k-grams, one entry
    /// per group that holds one, which count towards the frequency, except for the groups that
    /// `duplicates` marks (near-duplicates of an earlier group: one group in a whole build).
    func commonKGrams(shingles: SortedEntries, background: SortedEntries, prompts: SortedEntries,
                      earlier: SortedEntries? = nil, duplicates: [Bool] = [],
                      groups: ReferenceGroups, folder: String) throws -> CommonKGrams {
        var result = CommonKGrams(file: try ScratchFile(path: folder + "/common.bin"),
                                  borderline: try ScratchFile(path: folder + "/borderline.bin"),
                                  inEarlierSegments: try ScratchFile(path: folder + "/common-in-earlier-segments.bin"))
        var nextBackground = try background.next()
        var nextPrompt = try prompts.next()
        func contains(_ hash: UInt64, _ stream: SortedEntries, _ head: inout SortedEntries.Entry?) throws -> Bool {
            while let entry = head, entry.key < hash { head = try stream.next() }
            return head?.key == hash
        }
        var entry = try shingles.next()
        var nextEarlier = try earlier?.next()
        while let key = Self.smaller(entry?.key, nextEarlier?.key) {
            var frequency = 0
            var duplicated = 0
            while let same = entry, same.key == key {
                let reference = Int(same.value)
                if groups.isRepresentative(reference) {
                    if !duplicates.isEmpty && duplicates[Int(groups.groupOf[reference])] { duplicated += 1 } else { frequency += 1 }
                }
                entry = try shingles.next()
            }
            var earlierFrequency = 0
            while let same = nextEarlier, same.key == key {
                earlierFrequency += 1
                nextEarlier = try earlier?.next()
            }
            guard frequency + duplicated > 0 else { continue }
            let inBackground = try contains(key, background, &nextBackground)
            let inPrompt = try contains(key, prompts, &nextPrompt)
            // A near-duplicate of an earlier group shares its k-grams with that group only.
            frequency += earlierFrequency > 0 ? earlierFrequency : duplicated
            if earlierFrequency > 0 && earlierFrequency <= options.maximumDocumentFrequency
                && (frequency > options.maximumDocumentFrequency || inPrompt) {
                result.inEarlierSegments.append(key)
            }
            if frequency > options.maximumDocumentFrequency {
                result.byFrequency += 1
                if frequency == options.maximumDocumentFrequency + 1 && !inBackground && !inPrompt {
                    result.borderline.append(key)
                }
            } else if inBackground {
                result.byBackground += 1
            } else if inPrompt {
                result.byPrompt += 1
            } else {
                continue
            }
            result.file.append(key)
            result.count += 1
        }
        try result.file.close()
        try result.borderline.close()
        try result.inEarlierSegments.close()
        return result
    }

    /// The posting sections: each group's distinct winnowed k-grams that are not common, or are
    /// borderline (marked with `IndexFormat.borderlinePosting`), sorted by (k-gram, group), and
    /// the prefix directory over them.
    struct Postings {
        /// The full u64 hashes, from which the directory and the filter are made; the section
        /// holds their `shortKey`s (`shortKeys`).
        var keys: ScratchFile
        var shortKeys: ScratchFile
        /// The look-up filter over the full hashes (section `postingFilter`).
        var filter: BlockedBloomFilter
        var groups: ScratchFile
        var directory: ScratchFile
        var count = 0
        var directoryCount = 0

        init(winnowed: SortedEntries, common: UnsafeBufferPointer<UInt64>, borderline: UnsafeBufferPointer<UInt64>,
             groups referenceGroups: ReferenceGroups, folder: String) throws {
            keys = try ScratchFile(path: folder + "/posting-keys.bin")
            shortKeys = try ScratchFile(path: folder + "/posting-short-keys.bin")
            groups = try ScratchFile(path: folder + "/posting-groups.bin")
            directory = try ScratchFile(path: folder + "/posting-directory.bin")
            var commonCursor = 0
            // Representatives are in group order, so (k-gram, reference) order is (k-gram, group) order.
            while let entry = try winnowed.next() {
                let reference = Int(entry.value)
                guard referenceGroups.isRepresentative(reference) else { continue }
                while commonCursor < common.count, common[commonCursor] < entry.key { commonCursor += 1 }
                var group = referenceGroups.groupOf[reference]
                if commonCursor < common.count, common[commonCursor] == entry.key {
                    // Borderline k-grams stay, marked: the null sample's references look them up.
                    guard ReferenceIndex.contains(borderline, entry.key) else { continue }
                    group |= IndexFormat.borderlinePosting
                }
                keys.append(entry.key)
                groups.append(group)
                count += 1
            }
            try keys.close()
            try groups.close()
            let mapped = try MappedFile.scratch(keys.path)
            let sortedKeys = mapped.bytes.bindMemory(to: UInt64.self)
            let bits = IndexFormat.directoryBits(postings: count)
            let shift = UInt64(64 - bits)
            var cursor = 0
            for bucket in 0...(1 << bits) {
                while cursor < count, sortedKeys[cursor] >> shift < UInt64(bucket) { cursor += 1 }
                directory.append(UInt32(cursor))
            }
            directoryCount = (1 << bits) + 1
            try directory.close()
            for key in sortedKeys { shortKeys.append(IndexFormat.shortKey(key, leadingBits: bits)) }
            try shortKeys.close()
            filter = BlockedBloomFilter(sortedKeys, count: count, bitsPerHash: IndexFormat.postingFilterBits)
        }
    }

    /// The reference table: the first pass's records with each reference's group and text frame filled in.
    func referenceTable(_ spilled: String, groups: ReferenceGroups, texts: TextCompression, folder: String) throws -> ScratchFile {
        let records = try MappedFile.scratch(spilled)
        let table = try ScratchFile(path: folder + "/reference-table.bin")
        for (reference, group) in groups.groupOf.enumerated() {
            var record = IndexFormat.ReferenceRecord(records.bytes, number: reference)
            record.group = group
            record.textOffset = texts.offsets[reference]
            record.textCompressedLength = texts.lengths[reference]
            record.write(to: table)
        }
        try table.close()
        return table
    }

    /// Groups, members, the representatives' tokens (numbers into the vocabulary, `TokenCodec`)
    /// and their signatures.
    func addGroupSections(to file: IndexFileWriter, groups: ReferenceGroups, fingerprints: SpilledFingerprints,
                          common: UnsafeBufferPointer<UInt64>, borderline: UnsafeBufferPointer<UInt64>, folder: String) throws {
        let groupTable = try ScratchFile(path: folder + "/groups.bin")
        let memberTable = try ScratchFile(path: folder + "/members.bin")
        let tokenTable = try ScratchFile(path: folder + "/group-tokens.bin")
        let signatureTable = try ScratchFile(path: folder + "/group-signatures.bin")
        let commonTable = try ScratchFile(path: folder + "/group-common-positions.bin")
        var commonBits = BitWriter(file: commonTable)
        let borderlineTable = try ScratchFile(path: folder + "/group-borderline-positions.bin")
        var borderlineBits = BitWriter(file: borderlineTable)
        let shingler = Shingler(size: options.parameters.shingleSize, seed: options.parameters.seed)
        var shingles: [UInt64] = []
        var tokenCount = 0
        var tokenBytes = 0
        var counts: [UInt64: Int] = [:]
        for representative in groups.representatives {
            for token in fingerprints.tokens(Int(representative)) { counts[token, default: 0] += 1 }
        }
        let vocabulary = TokenCodec.vocabulary(counts: counts)
        counts = [:]
        let numbers = TokenCodec.numbers(of: vocabulary)
        var encoded: [UInt8] = []
        // Most k-grams are not common: a filter of the common ones spares them the search.
        let prefilter = BlockedBloomFilter(common, count: common.count, bitsPerHash: 16)
        for group in 0..<groups.count {
            let representative = Int(groups.representatives[group])
            let tokens = Array(fingerprints.tokens(representative))
            shingler.shingles(of: tokens, into: &shingles)
            // A text shorter than a k-gram has none (its one "shingle" hashes the whole text).
            let isCommon = tokens.count < shingler.size ? [] : shingles.map { prefilter.mightContain($0) && ReferenceIndex.contains(common, $0) }
            // One bit per token of the group: whether the k-gram that starts there is common, and
            // whether it is borderline (see `CommonKGrams`).
            for position in 0..<tokens.count {
                let common = position < isCommon.count && isCommon[position]
                commonBits.append(common)
                borderlineBits.append(common && ReferenceIndex.contains(borderline, shingles[position]))
            }
            let evidence = Self.evidenceTokenCount(common: isCommon, tokenCount: tokens.count, shingleSize: shingler.size)
            encoded.removeAll(keepingCapacity: true)
            TokenCodec.encode(tokens, numbers: numbers, into: &encoded)
            groupTable.append(UInt32(representative))
            groupTable.append(groups.memberStarts[group])
            groupTable.append(UInt32(groups.members(of: group).count))
            groupTable.append(UInt32(tokens.count))
            groupTable.append(UInt64(tokenCount))
            groupTable.append(UInt32(evidence))
            groupTable.append(UInt32(encoded.count))
            groupTable.append(UInt64(tokenBytes))
            tokenTable.write(encoded)
            for value in fingerprints.signature(representative) { signatureTable.append(UInt16(truncatingIfNeeded: value)) }
            tokenCount += tokens.count
            tokenBytes += encoded.count
        }
        memberTable.append(contentsOf: groups.members)
        commonBits.finish()
        borderlineBits.finish()
        for table in [groupTable, memberTable, tokenTable, signatureTable, commonTable, borderlineTable] { try table.close() }
        file.add(.groups, file: groupTable, count: groups.count)
        file.add(.members, file: memberTable, count: groups.members.count)
        file.add(.tokens, file: tokenTable, count: tokenCount)
        var vocabularyBytes = BinaryBuffer()
        vocabularyBytes.append(contentsOf: vocabulary)
        file.add(.vocabulary, bytes: vocabularyBytes.bytes, count: vocabulary.count)
        file.add(.signatures, file: signatureTable, count: groups.count * options.parameters.permutations)
        file.add(.commonPositions, file: commonTable, count: tokenCount)
        file.add(.borderlinePositions, file: borderlineTable, count: tokenCount)
    }

    /// The band filters and the band directory, made here (as the posting filter is with the
    /// postings) so that the open reads neither the posting keys nor the band hashes.
    func addBandLookUpSections(to file: IndexFileWriter, bandHashes: String, groups: Int) throws {
        let hashFile = try MappedFile.scratch(bandHashes)
        let hashes = hashFile.bytes
        func bandHash(_ band: Int, _ group: Int) -> UInt64 {
            hashes.loadUnaligned(fromByteOffset: 8 * (band * groups + group), as: UInt64.self).littleEndian
        }
        var filters: [UInt8] = []
        var directory: [UInt32] = []
        let bandCount = options.parameters.banding.bands
        for band in 0..<bandCount {
            filters += BlockedBloomFilter((0..<groups).lazy.map { bandHash(band, $0) }, count: groups, bitsPerHash: IndexFormat.bandFilterBits).bytes
            ReferenceIndex.appendPrefixDirectory(to: &directory, bits: IndexFormat.bandDirectoryBits, count: groups) { bandHash(band, $0) }
        }
        file.add(.bandFilters, bytes: filters, count: bandCount)
        var directoryBytes = BinaryBuffer()
        directoryBytes.append(contentsOf: directory)
        file.add(.bandDirectory, bytes: directoryBytes.bytes, count: directory.count)
    }

    /// Per band, (band key, group) of every group sorted by hash then group, each band sorted on
    /// its own with the sort budget; and the full hashes in the same order, for the look-up
    /// sections.
    func bandTable(groups: ReferenceGroups, fingerprints: SpilledFingerprints, folder: String,
                   sortEntries: Int) throws -> (table: ScratchFile, hashes: ScratchFile) {
        let banding = options.parameters.banding
        let table = try ScratchFile(path: folder + "/bands.bin")
        let hashes = try ScratchFile(path: folder + "/band-hashes.bin")
        for band in 0..<banding.bands {
            var sorter = ExternalSorter(directory: folder, name: "band-table", runEntries: sortEntries * Self.concurrentSorters)
            for (group, representative) in groups.representatives.enumerated() {
                try sorter.append(banding.bandHash(fingerprints.signature(Int(representative)), band: band), UInt64(group))
            }
            try sorter.forEachSorted { entry in
                table.append(IndexFormat.shortKey(entry.key, leadingBits: IndexFormat.bandDirectoryBits))
                table.append(UInt32(truncatingIfNeeded: entry.value))
                hashes.append(entry.key)
            }
        }
        try table.close()
        try hashes.close()
        return (table, hashes)
    }

    /// Tokens covered by at least one k-gram that is not common (`common[i]`: whether the k-gram
    /// at token i is): the part of a text that can count as evidence, and the denominator of
    /// containment.
    static func evidenceTokenCount(common: [Bool], tokenCount: Int, shingleSize: Int) -> Int {
        var covered = 0
        var coveredUpTo = 0
        for (position, isCommon) in common.enumerated() where !isCommon {
            let end = min(position + shingleSize, tokenCount)
            covered += max(0, end - max(position, coveredUpTo))
            coveredUpTo = max(coveredUpTo, end)
        }
        return covered
    }
}

/// Packs bits into little-endian u64 words of a scratch file, bit i of the stream at bit i % 64
/// of word i / 64.
struct BitWriter {
    let file: ScratchFile
    private var word: UInt64 = 0
    private var count = 0

    init(file: ScratchFile) { self.file = file }

    mutating func append(_ bit: Bool) {
        if bit { word |= 1 << UInt64(count & 63) }
        count += 1
        if count & 63 == 0 {
            file.append(word)
            word = 0
        }
    }

    mutating func finish() {
        if count & 63 != 0 { file.append(word) }
    }
}
