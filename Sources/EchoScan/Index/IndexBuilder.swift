import Foundation
import CZlib

/// How a reference index is built.
public struct IndexBuildOptions: Sendable {
    public var parameters = FingerprintParameters()
    /// A k-gram in more reference groups than this is a stock phrase and carries no evidence.
    public var maximumDocumentFrequency = 10
    /// References whose MinHash similarity reaches this are one group (near-duplicates).
    public var groupingThreshold = 0.9
    public var reader = ReaderOptions()
    public var modelField = "model"
    public var vendorField = "vendor"
    /// Field with the prompt a reference answers ("" for none): text a model copies from its
    /// prompt is not the model's own, so the prompt's k-grams are common.
    public var promptField = "prompt"
    public var threads = ProcessInfo.processInfo.activeProcessorCount

    public init() {}
}

/// What a build did, for the command line and the closing report.
public struct IndexBuildReport: Sendable {
    public var metadata: IndexMetadata
    public var referenceBytes: Int
    public var indexBytes: Int
    public var seconds: Double
    public var warnings: [ShardError]
}

/// Builds a reference index file from JSONL reference files (see `IndexFormat`).
///
/// Stages: read every reference (id, text, model, vendor) → fingerprint in parallel → group exact
/// duplicates (same token sequence) and near-duplicates (LSH candidates verified by MinHash
/// similarity) with union-find → postings of the winnowed k-grams of each group, with document
/// frequencies; frequent or background k-grams are marked common → band tables → one file,
/// written to a temporary name and renamed into place.
public struct IndexBuilder {
    public let options: IndexBuildOptions

    public init(options: IndexBuildOptions = IndexBuildOptions()) {
        self.options = options
    }

    struct Reference {
        var id: String
        var model: Int
        var vendor: Int
        var text: ArraySlice<UInt8>
    }

    struct ReferenceFingerprint: Sendable {
        var tokens: [UInt64]
        var signature: [UInt32]
        var shingles: [UInt64]
        var winnowed: [UInt64]
    }

    public func build(references: [String], background: [String] = [], output: String) throws -> IndexBuildReport {
        let started = Date()
        var warnings: [ShardError] = []
        var names = NameTable()
        var texts: [UInt8] = []
        var records: [(id: String, model: Int, vendor: Int, range: Range<Int>)] = []
        var sources: [IndexMetadata.Source] = []
        var skipped = 0

        var reader = options.reader
        reader.extraFields = [options.modelField, options.vendorField] + (options.promptField.isEmpty ? [] : [options.promptField])
        var promptShingles = Set<UInt64>()
        let promptFingerprinter = Fingerprinter(parameters: options.parameters)
        var promptScratch = DocumentFingerprint()
        reader.computeSHA256 = true
        for (index, path) in references.enumerated() {
            let result = ShardReader(path: path, shardIndex: index, options: reader).read { batch in
                for document in batch.documents {
                    let start = texts.count
                    texts.append(contentsOf: batch.bytes[document.textRange])
                    let model = names.models.intern(document.extras[0] ?? "unknown")
                    let vendor = names.vendors.intern(document.extras[1] ?? "unknown")
                    records.append((document.id ?? "\(path):\(document.line)", model, vendor, start..<texts.count))
                    if document.extras.count > 2, var prompt = document.extras[2], !prompt.isEmpty {
                        prompt.withUTF8 { promptFingerprinter.fingerprint($0, into: &promptScratch, withSignature: false) }
                        promptShingles.formUnion(promptScratch.shingles)
                    }
                }
            }
            if let fatal = result.fatalError { throw fatal }
            warnings += result.errors
            skipped += result.badLines
            sources.append(.init(path: path, sha256: result.sha256 ?? "", bytes: result.compressedBytes, records: result.documents))
        }

        let parameters = options.parameters
        let fingerprinter = Fingerprinter(parameters: parameters)
        let frozenTexts = texts
        let frozenRanges = records.map(\.range)
        let fingerprints: [ReferenceFingerprint] = Parallel.map(count: records.count, threads: options.threads,
                                                                makeState: { DocumentFingerprint() }) { scratch, index in
            frozenTexts.withUnsafeBufferPointer { all in
                fingerprinter.fingerprint(UnsafeBufferPointer(rebasing: all[frozenRanges[index]]), into: &scratch)
            }
            return ReferenceFingerprint(tokens: scratch.tokens.hashes, signature: scratch.signature,
                                        shingles: scratch.shingles, winnowed: Self.uniqued(scratch.winnowedHashes.sorted()))
        }

        let banding = parameters.banding
        let groups = group(fingerprints, banding: banding)

        // Common k-grams: in more than `maximumDocumentFrequency` groups (counted over every
        // k-gram of each group's representative), in the background text, or in a prompt.
        var sourcesOfBackground: [IndexMetadata.Source] = []
        let backgroundHashes = try backgroundShingles(background, sources: &sourcesOfBackground)
        var allShingles: [UInt64] = []
        for members in groups { allShingles += Self.uniqued(fingerprints[members[0]].shingles.sorted()) }
        allShingles.sort()
        var common: [UInt64] = []
        var commonByFrequency = 0
        var commonByBackground = 0
        var commonByPrompt = 0
        var start = 0
        while start < allShingles.count {
            var end = start + 1
            while end < allShingles.count, allShingles[end] == allShingles[start] { end += 1 }
            let hash = allShingles[start]
            if end - start > options.maximumDocumentFrequency {
                common.append(hash)
                commonByFrequency += 1
            } else if backgroundHashes.contains(hash) {
                common.append(hash)
                commonByBackground += 1
            } else if promptShingles.contains(hash) {
                common.append(hash)
                commonByPrompt += 1
            }
            start = end
        }
        allShingles = []
        let commonSet = Set(common)

        // Postings: each group's distinct winnowed k-grams that are not common.
        var postings: [(hash: UInt64, group: UInt32)] = []
        for (groupIndex, members) in groups.enumerated() {
            for hash in fingerprints[members[0]].winnowed where !commonSet.contains(hash) {
                postings.append((hash, UInt32(groupIndex)))
            }
        }
        postings.sort { $0.hash != $1.hash ? $0.hash < $1.hash : $0.group < $1.group }
        let keys = postings.map(\.hash)
        let owners = postings.map(\.group)

        let metadata = IndexMetadata(
            formatVersion: Int(IndexFormat.version), echoscanVersion: EchoScanVersion.current, parameters: parameters,
            bands: banding.bands, rows: banding.rows, maximumDocumentFrequency: options.maximumDocumentFrequency,
            groupingThreshold: options.groupingThreshold, sources: sources, backgroundSources: sourcesOfBackground,
            models: names.models.names, vendors: names.vendors.names, referenceCount: records.count,
            groupCount: groups.count, postingCount: keys.count, commonByFrequency: commonByFrequency,
            commonByBackground: commonByBackground, commonByPrompt: commonByPrompt, skippedRecords: skipped)

        let file = IndexFileWriter()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        file.add(.metadata, bytes: Array(try encoder.encode(metadata)), count: 1)

        var groupOf = [UInt32](repeating: 0, count: records.count)
        for (groupIndex, members) in groups.enumerated() { for member in members { groupOf[member] = UInt32(groupIndex) } }
        var strings = BinaryBuffer()
        var compressed = BinaryBuffer()
        var referenceTable = BinaryBuffer()
        let compressedTexts = Parallel.map(count: records.count, threads: options.threads, makeState: {}) { _, index in
            TextCodec.compress(frozenTexts[frozenRanges[index]])
        }
        for (index, record) in records.enumerated() {
            let idBytes = Array(record.id.utf8)
            referenceTable.append(groupOf[index])
            referenceTable.append(UInt16(record.model))
            referenceTable.append(UInt16(record.vendor))
            referenceTable.append(UInt32(strings.bytes.count))
            referenceTable.append(UInt32(idBytes.count))
            referenceTable.append(UInt64(compressed.bytes.count))
            referenceTable.append(UInt32(compressedTexts[index].count))
            referenceTable.append(UInt32(record.range.count))
            strings.append(contentsOf: idBytes)
            compressed.append(contentsOf: compressedTexts[index])
        }
        file.add(.references, bytes: referenceTable.bytes, count: records.count)
        file.add(.strings, bytes: strings.bytes, count: strings.bytes.count)
        file.add(.texts, bytes: compressed.bytes, count: records.count)

        var groupTable = BinaryBuffer()
        var memberTable = BinaryBuffer()
        var tokenTable = BinaryBuffer()
        var signatureTable = BinaryBuffer()
        var memberCount = 0
        var tokenCount = 0
        for members in groups {
            let tokens = fingerprints[members[0]].tokens
            groupTable.append(UInt32(members[0]))
            groupTable.append(UInt32(memberCount))
            groupTable.append(UInt32(members.count))
            groupTable.append(UInt32(tokens.count))
            groupTable.append(UInt64(tokenCount))
            groupTable.append(UInt32(Self.evidenceTokenCount(shingles: fingerprints[members[0]].shingles, tokenCount: tokens.count,
                                                              shingleSize: parameters.shingleSize, isCommon: commonSet.contains)))
            groupTable.append(UInt32(0))
            for member in members { memberTable.append(UInt32(member)) }
            tokenTable.append(contentsOf: tokens)
            signatureTable.append(contentsOf: fingerprints[members[0]].signature)
            memberCount += members.count
            tokenCount += tokens.count
        }
        file.add(.groups, bytes: groupTable.bytes, count: groups.count)
        file.add(.members, bytes: memberTable.bytes, count: memberCount)
        file.add(.tokens, bytes: tokenTable.bytes, count: tokenCount)
        file.add(.signatures, bytes: signatureTable.bytes, count: groups.count * parameters.permutations)

        var bandTable = BinaryBuffer()
        for band in 0..<banding.bands {
            var entries: [(UInt64, UInt64)] = groups.indices.map { groupIndex in
                let hash = fingerprints[groups[groupIndex][0]].signature.withUnsafeBufferPointer { banding.bandHash($0, band: band) }
                return (hash, UInt64(groupIndex))
            }
            entries.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
            for (hash, groupIndex) in entries { bandTable.append(hash); bandTable.append(groupIndex) }
        }
        file.add(.bands, bytes: bandTable.bytes, count: banding.bands * groups.count)

        var keyTable = BinaryBuffer()
        keyTable.append(contentsOf: keys)
        var ownerTable = BinaryBuffer()
        ownerTable.append(contentsOf: owners)
        file.add(.postingKeys, bytes: keyTable.bytes, count: keys.count)
        file.add(.postingGroups, bytes: ownerTable.bytes, count: owners.count)
        var directory = BinaryBuffer()
        let directoryBits = IndexFormat.directoryBits(postings: keys.count)
        let shift = UInt64(64 - directoryBits)
        var cursor = 0
        for bucket in 0...(1 << directoryBits) {
            while cursor < keys.count, keys[cursor] >> shift < UInt64(bucket) { cursor += 1 }
            directory.append(UInt32(cursor))
        }
        file.add(.postingDirectory, bytes: directory.bytes, count: (1 << directoryBits) + 1)
        var commonTable = BinaryBuffer()
        commonTable.append(contentsOf: common)
        file.add(.commonHashes, bytes: commonTable.bytes, count: common.count)

        let written = try file.write(to: output)
        return IndexBuildReport(metadata: metadata, referenceBytes: texts.count, indexBytes: written,
                                seconds: Date().timeIntervalSince(started), warnings: warnings)
    }

    /// Tokens covered by at least one k-gram that is not common: the part of a text that can
    /// count as evidence, and the denominator of containment.
    static func evidenceTokenCount(shingles: [UInt64], tokenCount: Int, shingleSize: Int, isCommon: (UInt64) -> Bool) -> Int {
        var covered = 0
        var coveredUpTo = 0
        for (position, hash) in shingles.enumerated() where !isCommon(hash) {
            let end = min(position + shingleSize, tokenCount)
            covered += max(0, end - max(position, coveredUpTo))
            coveredUpTo = max(coveredUpTo, end)
        }
        return covered
    }

    static func uniqued(_ sorted: [UInt64]) -> [UInt64] {
        var result: [UInt64] = []
        result.reserveCapacity(sorted.count)
        for value in sorted where result.last != value { result.append(value) }
        return result
    }

    /// Groups references: same token sequence (exact duplicates after normalization), or MinHash
    /// similarity at least `groupingThreshold` among LSH candidates. Groups are ordered by their
    /// first member, which represents them.
    func group(_ fingerprints: [ReferenceFingerprint], banding: LSHBanding) -> [[Int]] {
        var sets = UnionFind(count: fingerprints.count)
        var exact: [UInt64: Int] = [:]
        for (index, fingerprint) in fingerprints.enumerated() {
            let hash = StableHash.sequence(fingerprint.tokens)
            if let first = exact[hash], fingerprints[first].tokens == fingerprint.tokens {
                sets.union(first, index)
            } else if exact[hash] == nil {
                exact[hash] = index
            }
        }
        for band in 0..<banding.bands {
            var buckets: [UInt64: [Int]] = [:]
            for (index, fingerprint) in fingerprints.enumerated() where !fingerprint.tokens.isEmpty {
                let hash = fingerprint.signature.withUnsafeBufferPointer { banding.bandHash($0, band: band) }
                buckets[hash, default: []].append(index)
            }
            for members in buckets.values where members.count > 1 {
                for (position, member) in members.enumerated() {
                    // All pairs in small buckets; against the first few members in large ones.
                    for other in members.prefix(min(position, 32)) where sets.find(other) != sets.find(member) {
                        let similarity = fingerprints[member].signature.withUnsafeBufferPointer { lhs in
                            fingerprints[other].signature.withUnsafeBufferPointer { MinHasher.similarity(lhs, $0) }
                        }
                        if similarity >= options.groupingThreshold { sets.union(other, member) }
                    }
                }
            }
        }
        var groupsByRoot: [Int: Int] = [:]
        var groups: [[Int]] = []
        for index in fingerprints.indices {
            let root = sets.find(index)
            if let existing = groupsByRoot[root] {
                groups[existing].append(index)
            } else {
                groupsByRoot[root] = groups.count
                groups.append([index])
            }
        }
        return groups
    }

    /// Every k-gram of the background (human) texts: a reference k-gram found there is ordinary
    /// language, not evidence of a model.
    func backgroundShingles(_ paths: [String], sources: inout [IndexMetadata.Source]) throws -> Set<UInt64> {
        var hashes = Set<UInt64>()
        let fingerprinter = Fingerprinter(parameters: options.parameters)
        var scratch = DocumentFingerprint()
        var reader = options.reader
        reader.computeSHA256 = true
        for (index, path) in paths.enumerated() {
            let result = ShardReader(path: path, shardIndex: index, options: reader).read { batch in
                for document in batch.documents {
                    batch.withText(of: document) { fingerprinter.fingerprint($0, into: &scratch, withSignature: false) }
                    hashes.formUnion(scratch.shingles)
                }
            }
            if let fatal = result.fatalError { throw fatal }
            sources.append(.init(path: path, sha256: result.sha256 ?? "", bytes: result.compressedBytes, records: result.documents))
        }
        return hashes
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

/// Disjoint sets with path halving and union by size. Roots are arbitrary: callers that need a
/// canonical member (the first in input order) take the smallest index of each set.
struct UnionFind {
    private var parent: [Int]
    private var size: [Int]

    init(count: Int) {
        parent = Array(0..<count)
        size = Array(repeating: 1, count: count)
    }

    mutating func find(_ element: Int) -> Int {
        var current = element
        while parent[current] != current {
            parent[current] = parent[parent[current]]
            current = parent[current]
        }
        return current
    }

    mutating func union(_ lhs: Int, _ rhs: Int) {
        var a = find(lhs)
        var b = find(rhs)
        guard a != b else { return }
        if size[a] < size[b] { swap(&a, &b) }
        parent[b] = a
        size[a] += size[b]
    }
}
