import Foundation

/// The on-disk layout of a reference index (see docs/DESIGN.md, "Reference index").
///
/// ```
/// header   magic "ECHOSIDX", format version u32, section count u32, 8 reserved bytes
/// table    per section: kind u32, CRC-32 u32, offset u64, length u64, item count u64
/// sections each 8-byte aligned, little-endian, checksummed
/// ```
/// Sections are flat arrays that the reader uses in place through a read-only memory map: no
/// parsing at open beyond the header, the table, the checksums and the small JSON metadata.
enum IndexFormat {
    static let magic: [UInt8] = Array("ECHOSIDX".utf8)
    static let version: UInt32 = 10
    /// Magic, version, section count, 8 reserved bytes, then the SHA-256 of everything after the
    /// header (the section table and the sections), computed once at build.
    static let headerBytes = 56
    static let digestOffset = 24
    static let tableEntryBytes = 32

    /// The format version in an index's first bytes (eight bytes of magic, then the version), or
    /// nil when they are not an echoscan index's.
    static func version(ofHeader bytes: UnsafeRawBufferPointer) -> UInt32? {
        guard bytes.count >= 12, bytes.prefix(8).elementsEqual(magic) else { return nil }
        return bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self).littleEndian
    }

    /// The format version of the index file at `path`, or nil when it is not an echoscan index
    /// or cannot be read.
    static func version(ofFileAt path: String) -> UInt32? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 12) else { return nil }
        return head.withUnsafeBytes { version(ofHeader: $0) }
    }

    /// Leading bits of a k-gram hash that index the posting directory: four to eight postings
    /// per bucket, whose keys (4 bytes each) a lookup reads in one cache line, for a directory of
    /// half a byte per posting. (Most lookups miss; the posting filter turns away most of those
    /// before the directory is read.)
    static func directoryBits(postings: Int) -> Int {
        min(26, max(8, Int.bitWidth - postings.leadingZeroBitCount - 3))
    }

    /// What the index stores of a posting's k-gram hash or of a band hash: the 32 bits after the
    /// `leadingBits` that its directory bucket already stands for (`directoryBits` for postings,
    /// `bandDirectoryBits` for bands). Two hashes that agree in those 32 + `leadingBits` bits but
    /// differ below them are taken as one, one look-up in about 2^32 ÷ the bucket's entries (a
    /// billion): at worst an extra candidate that the alignment or the MinHash check turns down.
    static func shortKey(_ hash: UInt64, leadingBits: Int) -> UInt32 {
        UInt32(truncatingIfNeeded: hash >> UInt64(32 - leadingBits))
    }

    /// Marks a posting whose k-gram is borderline (common by frequency, in one group more than
    /// the maximum): looked up only for the null sample's references.
    static let borderlinePosting: UInt32 = 1 << 31

    enum Section: UInt32, CaseIterable {
        /// JSON `IndexMetadata`.
        case metadata = 1
        /// `ReferenceRecord` per reference, in input order.
        case references = 2
        /// UTF-8 ids, models and vendors referenced by offset.
        case strings = 3
        /// Each reference's text, a zstd frame of its own for random access, compressed with
        /// `textDictionary`.
        case texts = 4
        /// `GroupRecord` per group of exact or near-duplicate references.
        case groups = 5
        /// u32 reference indices, grouped.
        case members = 6
        /// Each group's representative text as token numbers into `vocabulary`, LEB128 (the
        /// frequent words take one byte), concatenated.
        case tokens = 7
        /// The low 16 bits of the MinHash values, `permutations` u16 per group.
        case signatures = 8
        /// Per band, `groups` entries of (`shortKey` u32, group u32) sorted by band hash (the
        /// band directory holds the hashes' leading bits).
        case bands = 9
        /// The winnowed k-gram hashes that carry evidence (not common), sorted, as u32
        /// `shortKey`s (the directory holds their leading bits).
        case postingKeys = 10
        /// u32 group for each posting key; `borderlinePosting` set for a borderline k-gram.
        case postingGroups = 11
        /// u32 start of each prefix bucket in the postings (`directoryBits` leading bits), plus an end.
        case postingDirectory = 12
        /// f64 best evidence scores of the null sample, ascending (`NullModel`).
        case nullScores = 14
        /// u64 words of bits, one per token of `tokens`: whether the group's k-gram starting at
        /// that token is common (stock phrases, background, prompts): not evidence. Common
        /// k-grams are also kept out of the postings.
        case commonPositions = 15
        /// The same layout: whether the k-gram is common only by frequency, in exactly one group
        /// more than the maximum (evidence for a reference of one of those groups in the null
        /// sample, see `IndexBuilder.CommonKGrams`).
        case borderlinePositions = 16
        /// JSON `StyleModel.Header`: the style detector's classes and calibration (optional).
        case styleModel = 17
        /// f32 × `StyleModel.classStride` per style feature bucket: the classes' log-probabilities.
        case styleWeights = 18
        /// u64 token hash of each token number, the most frequent first (ties by hash).
        case vocabulary = 19
        /// `BlockedBloomFilter` words over the posting keys (`postingFilterBits` per posting),
        /// built once so that the open does not read the keys.
        case postingFilter = 20
        /// Per band, `BlockedBloomFilter` words over its band hashes (`bandFilterBits` per group).
        case bandFilters = 21
        /// Per band, u32 the first entry of each `bandDirectoryBits` prefix, plus an end.
        case bandDirectory = 22
        /// The zstd dictionary of the texts (`TextCodec`); empty when the build trained none.
        case textDictionary = 23
        /// Only in a segment added to an index (`SegmentedIndex`): u64 k-gram hashes, sorted, of
        /// the earlier segments' groups that this segment's references make common.
        case commonInEarlierSegments = 24
        /// u32 length in tokens of each null sample text, in the order of `nullScores` (the
        /// length classes of `NullModel`; without it, one model for all lengths).
        case nullLengths = 25
    }

    /// Filter bits per posting key and per band hash: one word's three bits turn away most misses.
    static let postingFilterBits = 12
    static let bandFilterBits = 8
    /// Leading bits of a band hash that index a band's directory.
    static let bandDirectoryBits = 10

    /// Fixed-size record of one reference. The build's spill writes it with the text's offset in the plain texts and no group; the
    /// reference table, with both filled in.
    struct ReferenceRecord {
        static let bytes = 32
        var group: UInt32
        var model: UInt16
        var vendor: UInt16
        var idOffset: UInt32
        var idLength: UInt32
        var textOffset: UInt64
        var textCompressedLength: UInt32
        var textLength: UInt32
    }

    /// Fixed-size record of one group.
    struct GroupRecord {
        static let bytes = 40
        var representative: UInt32
        var memberStart: UInt32
        var memberCount: UInt32
        var tokenCount: UInt32
        /// The first token's position over all groups: its bit in `commonPositions` and `borderlinePositions`.
        var tokenStart: UInt64
        /// Tokens covered by a non-common k-gram (the denominator of containment).
        var evidenceTokenCount: UInt32
        /// The length of the group's token numbers in `tokens`, in bytes.
        var tokenByteCount: UInt32
        /// Where they start in `tokens`.
        var tokenByteStart: UInt64
    }
}

// The codec of a reference record, shared by the build's writers and the readers; in an
// extension, so that the record keeps its memberwise initializer.
extension IndexFormat.ReferenceRecord {
    /// Record `number` of a table of them.
    init(_ table: UnsafeRawBufferPointer, number: Int) {
        let at = number * Self.bytes
        func field<T: FixedWidthInteger>(_ offset: Int, _ type: T.Type) -> T {
            T(littleEndian: table.loadUnaligned(fromByteOffset: at + offset, as: T.self))
        }
        self.init(group: field(0, UInt32.self), model: field(4, UInt16.self), vendor: field(6, UInt16.self),
                  idOffset: field(8, UInt32.self), idLength: field(12, UInt32.self), textOffset: field(16, UInt64.self),
                  textCompressedLength: field(24, UInt32.self), textLength: field(28, UInt32.self))
    }

    func write(to file: ScratchFile) {
        file.append(group)
        file.append(model)
        file.append(vendor)
        file.append(idOffset)
        file.append(idLength)
        file.append(textOffset)
        file.append(textCompressedLength)
        file.append(textLength)
    }
}

/// Why an index file was refused.
public struct IndexError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var reason: String
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
    public var description: String { "\(path): not a usable echoscan index: \(reason)" }
}

/// Parameters and provenance stored in the index, shown by `echoscan index info`.
public struct IndexMetadata: Codable, Sendable {
    /// A reference file the index was built from, with its size and SHA-256.
    public struct Source: Codable, Sendable {
        public var path: String
        public var sha256: String
        public var bytes: Int
        public var records: Int
    }

    public var formatVersion: Int
    public var echoscanVersion: String
    public var parameters: FingerprintParameters
    public var bands: Int
    public var rows: Int
    /// k-grams found in more than this many groups are common and carry no evidence.
    public var maximumDocumentFrequency: Int
    /// Groups join references whose MinHash similarity reaches this value.
    public var groupingThreshold: Double
    public var sources: [Source]
    public var backgroundSources: [Source]
    public var models: [String]
    public var vendors: [String]
    public var referenceCount: Int
    public var groupCount: Int
    public var postingCount: Int
    public var commonByFrequency: Int
    public var commonByBackground: Int
    public var commonByPrompt: Int
    public var skippedRecords: Int

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version", echoscanVersion = "echoscan_version", parameters, bands, rows
        case maximumDocumentFrequency = "maximum_document_frequency", groupingThreshold = "grouping_threshold"
        case sources, backgroundSources = "background_sources", models, vendors
        case referenceCount = "reference_count", groupCount = "group_count", postingCount = "posting_count"
        case commonByFrequency = "common_by_frequency", commonByBackground = "common_by_background"
        case commonByPrompt = "common_by_prompt"
        case skippedRecords = "skipped_records"
    }
}
