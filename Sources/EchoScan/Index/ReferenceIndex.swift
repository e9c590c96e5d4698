#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import CEchoScanShims
import CZlib

/// A reference index opened read-only through a memory map and shared by all threads without locks.
///
/// Opening checks the magic, the format version, that every section lies inside the file and
/// matches its CRC-32, and decodes the small JSON metadata; the large tables are used in place.
public final class ReferenceIndex: @unchecked Sendable {
    public let path: String
    public let metadata: IndexMetadata
    public let fileSize: Int
    private let file: MappedFile

    private let referenceTable: UnsafeRawBufferPointer
    private let strings: UnsafeRawBufferPointer
    private let texts: UnsafeRawBufferPointer
    private let textDictionary: TextCodec.Dictionary?
    private let groupTable: UnsafeRawBufferPointer
    private let members: UnsafeBufferPointer<UInt32>
    /// The groups' token numbers (`TokenCodec`) and the hash of each number.
    private let tokenBytes: UnsafeRawBufferPointer
    private let vocabulary: UnsafeBufferPointer<UInt64>
    /// The low 16 bits of each group's MinHash values (`MinHasher.similarity(_:lowBits:)`).
    private let signatures: UnsafeBufferPointer<UInt16>
    private let bandTable: UnsafeBufferPointer<UInt32>
    private let postingKeys: UnsafeBufferPointer<UInt32>
    private let directoryBits: Int
    private let postingGroups: UnsafeBufferPointer<UInt32>
    private let postingDirectory: UnsafeBufferPointer<UInt32>
    private let commonPositions: UnsafeBufferPointer<UInt64>
    private let borderlinePositions: UnsafeBufferPointer<UInt64>
    /// In an added segment, the k-grams of earlier segments that it makes common, sorted (empty
    /// in an index built whole).
    let commonInEarlierSegments: UnsafeBufferPointer<UInt64>
    private let directoryShift: UInt64
    /// Computed at open: most look-ups miss, and these filters turn most misses away with one load
    /// that stays in the last-level cache, unlike the directory and the tables. 32 bits per posting
    /// (8 MB for all of ../shared/data/reference; 2% of misses pass): against 8 bits, the posting
    /// look-ups went from 18% to 12% of a scan profile. 16 bits per band entry.
    private let postingFilter: BlockedBloomFilter
    private let bandFilters: [BlockedBloomFilter]
    /// Per band, the start of each leading-bits bucket in its sorted entries (plus an end), as
    /// the build stored it; about 4 KiB per band, checked at open.
    private let bandDirectory: UnsafeBufferPointer<UInt32>
    static let bandBuckets = 1 << IndexFormat.bandDirectoryBits

    /// The calibration of evidence scores: the null sample's scores kept by the build.
    public let nullModel: NullModel

    /// The style detector's model, when the build trained one (two or more vendors with enough
    /// references).
    public let style: StyleModel?

    /// The index's SHA-256 (of everything after its header), computed at build and kept in the
    /// header: a scan records it without reading the file; `verify()` checks it.
    public let sha256: String

    public var referenceCount: Int { metadata.referenceCount }
    public var groupCount: Int { metadata.groupCount }
    public var parameters: FingerprintParameters { metadata.parameters }
    public var banding: LSHBanding { LSHBanding(bands: metadata.bands, rows: metadata.rows) }

    /// Opens the index: checks the header, the section table, the records of references and
    /// groups (every offset and number they hold) and the checksums of the sections it reads
    /// whole (metadata, records, the band directory, the null scores). It reads no posting key,
    /// band hash, posting group, text or token, and uses the look-up filters the build stored in
    /// place: the posting directory's and the bands' entries are checked where they are read,
    /// and the file's SHA-256 and the other sections' checksums, computed at build, on demand
    /// (`verify()`, `echoscan index verify`).
    public init(path: String) throws {
        self.path = path
        let file: MappedFile
        do {
            file = try MappedFile(path: path)
        } catch {
            throw IndexError(path: path, reason: error.reason)
        }
        let mapping = file.bytes
        let table = try Self.readTable(mapping, path: path)
        // The sections that the open reads whole anyway are checked against their CRC-32 here;
        // the texts, tokens, signatures, posting groups and bitmaps, read a little per document,
        // by `verify()`.
        for kind in Self.checkedAtOpen {
            guard let entry = table[kind] else { continue }
            guard Self.crc(entry.bytes) == entry.crc else {
                throw IndexError(path: path, reason: "section \(kind) fails its checksum (damaged file; `echoscan index verify` checks every section)")
            }
        }
        let sections = table.mapValues(\.bytes)
        func section(_ kind: IndexFormat.Section) throws -> UnsafeRawBufferPointer {
            guard let found = sections[kind] else { throw IndexError(path: path, reason: "section \(kind) is missing") }
            return found
        }
        let metadata: IndexMetadata
        do {
            metadata = try JSONDecoder().decode(IndexMetadata.self, from: Data(try section(.metadata)))
        } catch let error as IndexError {
            throw error
        } catch {
            throw IndexError(path: path, reason: "metadata does not decode: \(error)")
        }
        self.metadata = metadata
        referenceTable = try section(.references)
        strings = try section(.strings)
        texts = try section(.texts)
        let dictionary = try section(.textDictionary)
        if dictionary.isEmpty {
            textDictionary = nil
        } else {
            guard let loaded = TextCodec.Dictionary(Array(dictionary)) else {
                throw IndexError(path: path, reason: "section \(IndexFormat.Section.textDictionary) is not a zstd dictionary")
            }
            textDictionary = loaded
        }
        groupTable = try section(.groups)
        members = try section(.members).bindMemory(to: UInt32.self)
        tokenBytes = try section(.tokens)
        vocabulary = try section(.vocabulary).bindMemory(to: UInt64.self)
        signatures = try section(.signatures).bindMemory(to: UInt16.self)
        bandTable = try section(.bands).bindMemory(to: UInt32.self)
        postingKeys = try section(.postingKeys).bindMemory(to: UInt32.self)
        postingGroups = try section(.postingGroups).bindMemory(to: UInt32.self)
        postingDirectory = try section(.postingDirectory).bindMemory(to: UInt32.self)
        commonPositions = try section(.commonPositions).bindMemory(to: UInt64.self)
        borderlinePositions = try section(.borderlinePositions).bindMemory(to: UInt64.self)
        commonInEarlierSegments = (sections[.commonInEarlierSegments] ?? UnsafeRawBufferPointer(start: nil, count: 0)).bindMemory(to: UInt64.self)
        let nullScores = try section(.nullScores).bindMemory(to: Double.self)
        guard nullScores.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            throw IndexError(path: path, reason: "section \(IndexFormat.Section.nullScores) holds a score that is negative or not a number")
        }
        let nullLengths = (sections[.nullLengths] ?? UnsafeRawBufferPointer(start: nil, count: 0)).bindMemory(to: UInt32.self)
        if sections[.nullLengths] != nil {
            guard nullLengths.count == nullScores.count else {
                throw IndexError(path: path, reason: "section \(IndexFormat.Section.nullLengths) has \(nullLengths.count) entries, expected \(nullScores.count)")
            }
            nullModel = NullModel(scores: Array(nullScores), lengths: nullLengths.map { Int($0) })
        } else {
            nullModel = NullModel(scores: Array(nullScores))
        }
        if let header = sections[.styleModel], let weights = sections[.styleWeights] {
            style = try StyleModel.decode(header: header, weights: weights, in: file, tokenizer: Tokenizer(seed: metadata.parameters.seed))
        } else {
            style = nil
        }
        directoryBits = IndexFormat.directoryBits(postings: postingKeys.count)
        directoryShift = UInt64(64 - directoryBits)
        guard let postingFilter = BlockedBloomFilter(stored: try section(.postingFilter), count: postingKeys.count,
                                                    bitsPerHash: IndexFormat.postingFilterBits) else {
            throw IndexError(path: path, reason: "section \(IndexFormat.Section.postingFilter) is not of its postings' size")
        }
        self.postingFilter = postingFilter
        let groups = metadata.groupCount
        let expectations: [(String, Int, Int)] = [
            ("references", referenceTable.count, metadata.referenceCount * IndexFormat.ReferenceRecord.bytes),
            ("groups", groupTable.count, groups * IndexFormat.GroupRecord.bytes),
            ("signatures", signatures.count, groups * metadata.parameters.permutations),
            ("bands", bandTable.count, 2 * groups * metadata.bands),
            ("posting groups", postingGroups.count, postingKeys.count),
            ("borderline positions", borderlinePositions.count, commonPositions.count),
            ("posting directory", postingDirectory.count, (1 << directoryBits) + 1),
        ]
        for (name, actual, expected) in expectations where actual != expected {
            throw IndexError(path: path, reason: "section \(name) has \(actual) entries, expected \(expected)")
        }
        // The posting directory's entries, the posting groups' and the bands' group numbers
        // are checked where they are read, not here: that would read them all at every start.
        self.file = file
        fileSize = mapping.count
        sha256 = UnsafeRawBufferPointer(rebasing: mapping[IndexFormat.digestOffset..<(IndexFormat.digestOffset + 32)]).hexString
        // The band directory: within each band, rising and within the band's entries.
        let directory = try section(.bandDirectory).bindMemory(to: UInt32.self)
        guard directory.count == metadata.bands * (Self.bandBuckets + 1) else {
            throw IndexError(path: path, reason: "section \(IndexFormat.Section.bandDirectory) has \(directory.count) entries, expected \(metadata.bands * (Self.bandBuckets + 1))")
        }
        for band in 0..<metadata.bands {
            let entries = directory[(band * (Self.bandBuckets + 1))..<((band + 1) * (Self.bandBuckets + 1))]
            guard zip(entries, entries.dropFirst()).allSatisfy({ $0 <= $1 }), entries.last.map({ Int($0) <= groups }) ?? true else {
                throw IndexError(path: path, reason: "section \(IndexFormat.Section.bandDirectory) points past band \(band)'s entries")
            }
        }
        bandDirectory = directory
        let filters = try section(.bandFilters)
        let filterBytes = metadata.bands > 0 ? filters.count / metadata.bands : 0
        bandFilters = try (0..<metadata.bands).map { band in
            let bytes = UnsafeRawBufferPointer(rebasing: filters[(band * filterBytes)..<((band + 1) * filterBytes)])
            guard let filter = BlockedBloomFilter(stored: bytes, count: groups, bitsPerHash: IndexFormat.bandFilterBits),
                  filterBytes * metadata.bands == filters.count else {
                throw IndexError(path: path, reason: "section \(IndexFormat.Section.bandFilters) is not of its bands' size")
            }
            return filter
        }
        try validateRecords()
    }

    /// The reference and group records' offsets and numbers lie within their sections: checked
    /// once so that a crafted file (with right checksums) is refused instead of read outside
    /// its mapping.
    func validateRecords() throws {
        let references = referenceCount
        for number in 0..<references {
            let record = referenceRecord(number)
            guard Int(record.group) < groupCount, Int(record.model) < metadata.models.count, Int(record.vendor) < metadata.vendors.count,
                  Self.range(record.idOffset, record.idLength, fitsIn: strings.count),
                  Self.range(record.textOffset, record.textCompressedLength, fitsIn: texts.count) else {
                throw IndexError(path: path, reason: "reference record \(number) points outside its sections")
            }
        }
        for group in 0..<groupCount {
            let record = groupRecord(group)
            guard Int(record.representative) < references, Self.range(record.memberStart, record.memberCount, fitsIn: members.count),
                  Self.range(record.tokenStart, record.tokenCount, fitsIn: commonPositions.count * 64),
                  Self.range(record.tokenByteStart, record.tokenByteCount, fitsIn: tokenBytes.count),
                  record.evidenceTokenCount <= record.tokenCount else {
                throw IndexError(path: path, reason: "group record \(group) points outside its sections")
            }
        }
        if let bad = members.first(where: { Int($0) >= references }) {
            throw IndexError(path: path, reason: "section members names reference \(bad) of \(references)")
        }
    }

    /// Whether `count` items from `start` lie within `limit` items, without overflowing for any
    /// numbers a file may hold.
    static func range<Start: FixedWidthInteger, Count: FixedWidthInteger>(_ start: Start, _ count: Count, fitsIn limit: Int) -> Bool {
        guard let start = UInt64(exactly: start), let count = UInt64(exactly: count) else { return false }
        let limit = UInt64(max(0, limit))
        return start <= limit && count <= limit - start
    }

    /// The sections the open reads whole. The look-up filters are read in place, a word per
    /// look-up (a damaged word makes a look-up miss or search in vain; `verify` checks them).
    static let checkedAtOpen: [IndexFormat.Section] = [.metadata, .references, .groups, .members, .bandDirectory, .nullScores, .nullLengths,
                                                        .styleModel, .textDictionary]

    static func crc(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        UInt32(crc32_z(0, bytes.baseAddress?.assumingMemoryBound(to: Bytef.self), bytes.count))
    }

    /// Reads the whole file: its SHA-256 against the header's, every section against its
    /// checksum, every posting's group number. Returns what is wrong (empty: the index is sound).
    public func verify() -> [String] {
        var problems: [String] = []
        let mapping = file.bytes
        let digest = SHA256.hash(data: UnsafeRawBufferPointer(rebasing: mapping[IndexFormat.headerBytes...])).hexString
        if digest != sha256 { problems.append("the file's SHA-256 is \(digest), the header says \(sha256) (damaged file)") }
        let table = (try? Self.readTable(mapping, path: path)) ?? [:]
        for (kind, entry) in table.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            if Self.crc(entry.bytes) != entry.crc { problems.append("section \(kind) fails its checksum") }
        }
        var tokens: [UInt64] = []
        if let bad = (0..<groupCount).first(where: { !self.tokens(ofGroup: $0, into: &tokens) }) {
            problems.append("the tokens of group \(bad) do not decode")
        }
        if let bad = stride(from: 1, to: bandTable.count, by: 2).first(where: { Int(bandTable[$0]) >= groupCount }) {
            problems.append("section bands names group \(bandTable[bad]) of \(groupCount)")
        }
        if zip(postingDirectory, postingDirectory.dropFirst()).contains(where: { $0 > $1 }) || (postingDirectory.last.map { Int($0) > postingKeys.count } ?? false) {
            problems.append("section posting directory points past the postings")
        }
        let unmarked = ~IndexFormat.borderlinePosting
        if let bad = postingGroups.first(where: { Int($0 & unmarked) >= groupCount }) {
            problems.append("section posting groups names group \(bad & unmarked) of \(groupCount)")
        }
        return problems
    }

    /// Sets each section's CRC-32 in the table to that of its bytes, as a crafted file has them:
    /// for the tests and the fuzz target, which must reach what the checksums would refuse first.
    /// A file whose table does not read is left as it is; returns whether the table read.
    @discardableResult
    package static func setChecksums(of file: inout [UInt8]) -> Bool {
        guard let sections = file.withUnsafeBytes({ try? readTable($0, path: "") }) else { return false }
        let crcs = sections.mapValues { crc($0.bytes) }
        file.withUnsafeMutableBytes { bytes in
            let count = Int(bytes.loadUnaligned(fromByteOffset: 12, as: UInt32.self).littleEndian)
            for entry in 0..<count {
                let at = IndexFormat.headerBytes + entry * IndexFormat.tableEntryBytes
                guard let kind = IndexFormat.Section(rawValue: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self).littleEndian),
                      let crc = crcs[kind] else { continue }
                bytes.storeBytes(of: crc.littleEndian, toByteOffset: at + 4, as: UInt32.self)
            }
        }
        return true
    }

    static func readTable(_ file: UnsafeRawBufferPointer, path: String) throws -> [IndexFormat.Section: (bytes: UnsafeRawBufferPointer, crc: UInt32)] {
        guard let version = IndexFormat.version(ofHeader: file) else {
            throw IndexError(path: path, reason: "wrong magic number (not an echoscan index)")
        }
        guard version == IndexFormat.version else {
            throw IndexError(path: path, reason: "format version \(version); this echoscan reads version \(IndexFormat.version): rebuild the index")
        }
        guard file.count >= IndexFormat.headerBytes else {
            throw IndexError(path: path, reason: "file of \(file.count) bytes is too short for an index header")
        }
        let count = Int(file.loadUnaligned(fromByteOffset: 12, as: UInt32.self).littleEndian)
        guard count <= 64, IndexFormat.headerBytes + count * IndexFormat.tableEntryBytes <= file.count else {
            throw IndexError(path: path, reason: "section table is truncated")
        }
        var sections: [IndexFormat.Section: (bytes: UnsafeRawBufferPointer, crc: UInt32)] = [:]
        for entry in 0..<count {
            let at = IndexFormat.headerBytes + entry * IndexFormat.tableEntryBytes
            let rawKind = file.loadUnaligned(fromByteOffset: at, as: UInt32.self).littleEndian
            let crc = file.loadUnaligned(fromByteOffset: at + 4, as: UInt32.self).littleEndian
            let offset = file.loadUnaligned(fromByteOffset: at + 8, as: UInt64.self).littleEndian
            let length = file.loadUnaligned(fromByteOffset: at + 16, as: UInt64.self).littleEndian
            guard let kind = IndexFormat.Section(rawValue: rawKind) else { continue }
            guard offset % 8 == 0, offset <= UInt64(file.count), length <= UInt64(file.count) - offset else {
                throw IndexError(path: path, reason: "section \(kind) lies outside the file (truncated?)")
            }
            sections[kind] = (UnsafeRawBufferPointer(rebasing: file[Int(offset)..<Int(offset + length)]), crc)
        }
        return sections
    }

    // MARK: References and groups

    /// One known model output.
    public struct Reference: Sendable {
        public var index: Int
        public var id: String
        public var model: String
        public var vendor: String
        public var group: Int
    }

    func referenceRecord(_ index: Int) -> IndexFormat.ReferenceRecord {
        IndexFormat.ReferenceRecord(referenceTable, number: index)
    }

    public func reference(_ index: Int) -> Reference {
        let record = referenceRecord(index)
        let idBytes = strings[Int(record.idOffset)..<(Int(record.idOffset) + Int(record.idLength))]
        return Reference(index: index, id: String(decoding: idBytes, as: UTF8.self),
                         model: metadata.models[Int(record.model)], vendor: metadata.vendors[Int(record.vendor)],
                         group: Int(record.group))
    }

    /// The text of a reference, decompressed from the index.
    public func text(ofReference index: Int) -> String? {
        text(ofReference: index, context: TextCodec.Context(.decompression))
    }

    /// The text of a reference, decompressed in `context` (one per thread, for many texts).
    func text(ofReference index: Int, context: TextCodec.Context) -> String? {
        let record = referenceRecord(index)
        let start = Int(record.textOffset)
        let end = start + Int(record.textCompressedLength)
        guard end <= texts.count else { return nil }
        return TextCodec.decompress(UnsafeRawBufferPointer(rebasing: texts[start..<end]), length: Int(record.textLength),
                                    dictionary: textDictionary, context: context)
            .map { String(decoding: $0, as: UTF8.self) }
    }

    func groupRecord(_ group: Int) -> IndexFormat.GroupRecord {
        let at = group * IndexFormat.GroupRecord.bytes
        return IndexFormat.GroupRecord(
            representative: groupTable.load(fromByteOffset: at, as: UInt32.self).littleEndian,
            memberStart: groupTable.load(fromByteOffset: at + 4, as: UInt32.self).littleEndian,
            memberCount: groupTable.load(fromByteOffset: at + 8, as: UInt32.self).littleEndian,
            tokenCount: groupTable.load(fromByteOffset: at + 12, as: UInt32.self).littleEndian,
            tokenStart: groupTable.load(fromByteOffset: at + 16, as: UInt64.self).littleEndian,
            evidenceTokenCount: groupTable.load(fromByteOffset: at + 24, as: UInt32.self).littleEndian,
            tokenByteCount: groupTable.load(fromByteOffset: at + 28, as: UInt32.self).littleEndian,
            tokenByteStart: groupTable.load(fromByteOffset: at + 32, as: UInt64.self).littleEndian)
    }

    /// The vendor of a group's representative, as an index into `metadata.vendors`.
    func vendorCode(ofGroup group: Int) -> Int { Int(referenceRecord(representative(ofGroup: group)).vendor) }

    /// The reference that stands for a group (its first member in input order).
    public func representative(ofGroup group: Int) -> Int { Int(groupRecord(group).representative) }

    /// All references of a group, representative first.
    public func members(ofGroup group: Int) -> [Int] {
        let record = groupRecord(group)
        let start = Int(record.memberStart)
        return members[start..<(start + Int(record.memberCount))].map { Int($0) }
    }

    /// The token hashes of a group's representative text, decoded into `tokens`; false (with
    /// the tokens that decoded) when its bytes are damaged, which `verify()` reports.
    @discardableResult
    public func tokens(ofGroup group: Int, into tokens: inout [UInt64]) -> Bool {
        let record = groupRecord(group)
        let start = Int(record.tokenByteStart)
        return TokenCodec.decode(UnsafeRawBufferPointer(rebasing: tokenBytes[start..<(start + Int(record.tokenByteCount))]),
                                 count: Int(record.tokenCount), vocabulary: vocabulary, into: &tokens)
    }

    /// How many tokens a group's representative text has.
    public func tokenCount(ofGroup group: Int) -> Int { Int(groupRecord(group).tokenCount) }

    /// The bit of a group's first token in the common and borderline bitmaps (`isCommon(bit:)`).
    public func commonBitStart(ofGroup group: Int) -> Int { Int(groupRecord(group).tokenStart) }

    /// Whether the k-gram at `bit` of the bitmaps (a group's `commonBitStart` plus the position
    /// of its first token in the group's representative) is common. For a reference of the null
    /// sample (`leavingOneOut`), a k-gram common only because that reference's own group is one
    /// of its groups is not.
    @inline(__always)
    public func isCommon(bit: Int, leavingOneOut: Bool = false) -> Bool {
        let mask: UInt64 = 1 << UInt64(bit & 63)
        guard commonPositions[bit >> 6] & mask != 0 else { return false }
        return !leavingOneOut || borderlinePositions[bit >> 6] & mask == 0
    }

    /// Tokens of a group's representative covered by a non-common k-gram.
    public func evidenceTokenCount(ofGroup group: Int) -> Int { Int(groupRecord(group).evidenceTokenCount) }

    public func signature(ofGroup group: Int) -> UnsafeBufferPointer<UInt16> {
        let width = metadata.parameters.permutations
        return UnsafeBufferPointer(rebasing: signatures[(group * width)..<((group + 1) * width)])
    }

    // MARK: Lookups

    /// False when `hash` surely has no postings: one bitmap load, for screening many k-grams
    /// before `postings(for:)`.
    @inline(__always)
    public func mightHavePostings(_ hash: UInt64) -> Bool {
        postingFilter.mightContain(hash)
    }

    /// Starts loading what `mightHavePostings(hash)` reads, for a loop that screens many hashes.
    @inline(__always)
    func prefetchPostingFilter(_ hash: UInt64) {
        postingFilter.prefetch(hash)
    }

    /// Starts loading the directory entry that `postings(for: hash)` reads first.
    @inline(__always)
    func prefetchPostingDirectory(_ hash: UInt64) {
        if let base = postingDirectory.baseAddress { echoscan_prefetch(base + Int(hash >> directoryShift)) }
    }

    /// Starts loading the first key that `postings(for: hash)` compares; reads the directory
    /// entry, so call it some time after `prefetchPostingDirectory(hash)`.
    @inline(__always)
    func prefetchPostingKeys(_ hash: UInt64) {
        // A prefetch of an address past the keys (a crafted directory) loads nothing and faults nothing.
        if let base = postingKeys.baseAddress { echoscan_prefetch(base + Int(postingDirectory[Int(hash >> directoryShift)])) }
    }

    /// The groups whose winnowed k-grams include `hash` (empty for common or unknown k-grams).
    @inline(__always)
    public func postings(for hash: UInt64) -> UnsafeBufferPointer<UInt32> {
        guard postingFilter.mightContain(hash) else { return UnsafeBufferPointer(rebasing: postingGroups[0..<0]) }
        let bucket = Int(hash >> directoryShift)
        let bucketStart = Int(postingDirectory[bucket])
        let bucketEnd = Int(postingDirectory[bucket + 1])
        // A directory that does not rise or points past the keys (a crafted file) finds nothing.
        guard bucketStart <= bucketEnd, bucketEnd <= postingKeys.count else { return UnsafeBufferPointer(rebasing: postingGroups[0..<0]) }
        let key = IndexFormat.shortKey(hash, leadingBits: directoryBits)
        let low = Self.lowerBound(key, in: postingKeys, from: bucketStart, to: bucketEnd)
        var end = low
        while end < bucketEnd, postingKeys[end] == key { end += 1 }
        return UnsafeBufferPointer(rebasing: postingGroups[low..<end])
    }

    /// Starts loading what `bandMatches(band:hash:_:)` reads first.
    @inline(__always)
    func prefetchBandFilter(band: Int, hash: UInt64) {
        bandFilters[band].prefetch(hash)
    }

    /// Groups that share band `band` of a signature, by band hash.
    public func bandMatches(band: Int, hash: UInt64, _ body: (Int) -> Void) {
        guard bandFilters[band].mightContain(hash) else { return }
        let groups = metadata.groupCount
        let base = band * groups
        // The band's directory narrows the search to the entries with the same leading bits.
        let bucket = band * (Self.bandBuckets + 1) + Int(hash >> UInt64(64 - IndexFormat.bandDirectoryBits))
        let end = Int(bandDirectory[bucket + 1])
        let key = IndexFormat.shortKey(hash, leadingBits: IndexFormat.bandDirectoryBits)
        var low = Self.lowerBound(key, in: bandTable, from: Int(bandDirectory[bucket]), to: end, stride: 2, offset: 2 * base)
        while low < end, bandTable[2 * (base + low)] == key {
            // A group past the groups (a crafted file; `verify` names it) is skipped.
            let group = Int(bandTable[2 * (base + low) + 1])
            if group < groups { body(group) }
            low += 1
        }
    }

    /// Appends, for each value of `bits` leading bits, the first of `count` sorted keys with
    /// that prefix or a larger one, then `count`: 2^bits + 1 entries.
    static func appendPrefixDirectory(to directory: inout [UInt32], bits: Int, count: Int, key: (Int) -> UInt64) {
        var cursor = 0
        for bucket in 0...(1 << bits) {
            while cursor < count, Int(key(cursor) >> UInt64(64 - bits)) < bucket { cursor += 1 }
            directory.append(UInt32(cursor))
        }
    }

    /// Whether sorted `hashes` hold `hash`.
    @inline(__always)
    static func contains(_ hashes: UnsafeBufferPointer<UInt64>, _ hash: UInt64) -> Bool {
        let low = lowerBound(hash, in: hashes, from: 0, to: hashes.count)
        return low < hashes.count && hashes[low] == hash
    }

    /// The first position in `from..<to` whose key is not below `key`, where entry i's key is
    /// `keys[offset + stride·i]` and the keys are sorted.
    @inline(__always)
    static func lowerBound<Key: Comparable>(_ key: Key, in keys: UnsafeBufferPointer<Key>, from: Int, to: Int,
                           stride: Int = 1, offset: Int = 0) -> Int {
        var low = from
        var high = to
        while low < high {
            let middle = (low + high) >> 1
            if keys[offset + stride * middle] < key { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
