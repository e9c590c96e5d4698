import Foundation

/// A reference index and the segments added to it since it was built (`echoscan index add`),
/// searched as one index.
///
/// Each segment is an index file of its own (`IndexFormat`), built from the references added at
/// once, with its k-grams' rarity counted over every segment before it: a k-gram of the new
/// references that an earlier segment's group holds too is common in the new segment, and the
/// new segment lists the earlier segments' k-grams it makes common (section
/// `commonInEarlierSegments`), which a scan treats as common there. Groups and references are
/// numbered over the segments in order. The evidence is calibrated on the base index's null
/// sample, as are the style model and the fingerprint parameters: a segment's references could
/// be scored only against its own groups (the prompts that tell which references answer the same
/// prompt as another vendor's are not kept), and a segment of one vendor's outputs would add
/// null texts that share nothing, making every passage look rarer than it is.
///
/// The segments are listed in `<index>.segments` (`SegmentList`), written last and atomically:
/// an index without that file is its base file alone, as `echoscan index build` writes it.
public final class SegmentedIndex: @unchecked Sendable {
    /// The base index's path, as given.
    public let path: String
    /// The base index first, then the added segments in order.
    public let segments: [ReferenceIndex]
    /// The first global group and reference number of each segment, and the totals.
    private let groupStarts: [Int]
    private let referenceStarts: [Int]
    /// Per segment, the sorted k-gram hashes that later segments made common in it.
    private let laterCommon: [[UnsafeBufferPointer<UInt64>]]
    /// The calibration of the evidence scores: the base index's.
    public var nullModel: NullModel { base.nullModel }
    /// The base index's SHA-256 alone, or, with segments, the SHA-256 of the segments' hashes
    /// in order: what a scan records as the index it used.
    public let sha256: String

    /// Opens the index at `path` and the segments its segment list names.
    public convenience init(path: String) throws {
        let base = try ReferenceIndex(path: path)
        guard let list = try SegmentList.read(forIndex: path) else {
            self.init(path: path, segments: [base])
            return
        }
        guard list.baseSHA256 == base.sha256 else {
            throw IndexError(path: SegmentList.path(forIndex: path),
                             reason: "lists segments of an index with SHA-256 \(list.baseSHA256), but \(path) has \(base.sha256) (rebuilt since: remove the list or add the segments again)")
        }
        var segments = [base]
        for entry in list.segments {
            let segmentPath = SegmentList.segmentPath(entry.file, forIndex: path)
            let segment = try ReferenceIndex(path: segmentPath)
            guard segment.sha256 == entry.sha256 else {
                throw IndexError(path: segmentPath, reason: "SHA-256 \(segment.sha256) is not the \(entry.sha256) its segment list records")
            }
            guard segment.parameters == base.parameters else {
                throw IndexError(path: segmentPath, reason: "fingerprint parameters differ from the base index's")
            }
            segments.append(segment)
        }
        self.init(path: path, segments: segments)
    }

    /// One index file as an index of one segment.
    public convenience init(_ index: ReferenceIndex) {
        self.init(path: index.path, segments: [index])
    }

    private init(path: String, segments: [ReferenceIndex]) {
        self.path = path
        self.segments = segments
        var groups = [0]
        var references = [0]
        for segment in segments {
            groups.append(groups[groups.count - 1] + segment.groupCount)
            references.append(references[references.count - 1] + segment.referenceCount)
        }
        groupStarts = groups
        referenceStarts = references
        laterCommon = segments.indices.map { number in
            segments[(number + 1)...].map(\.commonInEarlierSegments).filter { !$0.isEmpty }
        }
        sha256 = segments.count == 1 ? segments[0].sha256
            : SHA256.hash(data: Data(segments.map(\.sha256).joined(separator: "\n").utf8)).hexString
    }

    public var base: ReferenceIndex { segments[0] }
    public var metadata: IndexMetadata { base.metadata }
    public var parameters: FingerprintParameters { base.parameters }
    public var style: StyleModel? { base.style }
    public var referenceCount: Int { referenceStarts[referenceStarts.count - 1] }
    public var groupCount: Int { groupStarts[groupStarts.count - 1] }

    /// The global number of a segment's first group.
    func firstGroup(ofSegment segment: Int) -> Int { groupStarts[segment] }

    /// The segment of a global group number, and the group's number within it.
    func locate(group: Int) -> (segment: Int, group: Int) {
        let segment = Self.segment(of: group, starts: groupStarts)
        return (segment, group - groupStarts[segment])
    }

    /// Whether a later segment made some k-gram of segment `segment` common.
    func hasLaterCommon(segment: Int) -> Bool { !laterCommon[segment].isEmpty }

    /// Whether a later segment made the k-gram `hash` of segment `segment` common.
    @inline(__always)
    func isCommonInLaterSegment(_ hash: UInt64, segment: Int) -> Bool {
        laterCommon[segment].contains { ReferenceIndex.contains($0, hash) }
    }

    /// A reference by its global number, with its global group number.
    public func reference(_ number: Int) -> ReferenceIndex.Reference {
        let segment = Self.segment(of: number, starts: referenceStarts)
        var reference = segments[segment].reference(number - referenceStarts[segment])
        reference.index = number
        reference.group += groupStarts[segment]
        return reference
    }

    /// The global numbers of a group's references, representative first.
    public func members(ofGroup group: Int) -> [Int] {
        let (segment, local) = locate(group: group)
        return segments[segment].members(ofGroup: local).map { $0 + referenceStarts[segment] }
    }

    /// The global number of the reference that stands for a group.
    public func representative(ofGroup group: Int) -> Int {
        let (segment, local) = locate(group: group)
        return segments[segment].representative(ofGroup: local) + referenceStarts[segment]
    }

    /// The text of a reference by its global number.
    public func text(ofReference number: Int) -> String? {
        let segment = Self.segment(of: number, starts: referenceStarts)
        return segments[segment].text(ofReference: number - referenceStarts[segment])
    }

    /// The segment list that names the added segments (empty for an index of one file).
    public var segmentList: SegmentList {
        SegmentList(baseSHA256: base.sha256, segments: segments.dropFirst().map {
            .init(file: URL(fileURLWithPath: $0.path).lastPathComponent, sha256: $0.sha256, references: $0.referenceCount)
        })
    }

    /// Every segment's problems (`ReferenceIndex.verify()`), each named by its file.
    public func verify() -> [String] {
        segments.flatMap { segment in segment.verify().map { segments.count == 1 ? $0 : "\(segment.path): \($0)" } }
    }

    /// The segment whose range of `starts` holds `number` (the last start at or below it).
    private static func segment(of number: Int, starts: [Int]) -> Int {
        var segment = 0
        while segment + 2 < starts.count && starts[segment + 1] <= number { segment += 1 }
        return segment
    }
}

extension IndexBuilder {
    /// Adds `references` to `index` as a new segment beside it (`SegmentedIndex`), built with
    /// the index's fingerprint parameters and thresholds and without a style model, and lists it
    /// last in the index's segment list (written after the segment, atomically: a build that
    /// fails or is killed leaves the index as it was). Returns the build's report and the
    /// segment's path.
    public func addSegment(references: [String], background: [String], to index: SegmentedIndex) throws -> (report: IndexBuildReport, path: String) {
        var options = self.options
        options.adopt(index.metadata)
        options.style.enabled = false
        var list = index.segmentList
        let file = SegmentList.segmentFile(list.segments.count + 1, forIndex: index.path)
        let path = SegmentList.segmentPath(file, forIndex: index.path)
        let report = try IndexBuilder(options: options).build(references: references, background: background, output: path, earlier: index)
        let segment = try ReferenceIndex(path: path)
        list.segments.append(.init(file: file, sha256: segment.sha256, references: segment.referenceCount))
        try list.write(forIndex: index.path)
        return (report, path)
    }
}

/// The segments added to an index, in `<index>.segments`: JSON naming the base index by its
/// SHA-256 and each segment file (beside the index) with its SHA-256, in the order added.
public struct SegmentList: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        /// The segment's file name, in the index's folder.
        public var file: String
        public var sha256: String
        public var references: Int

        public init(file: String, sha256: String, references: Int) {
            self.file = file
            self.sha256 = sha256
            self.references = references
        }
    }

    public var baseSHA256: String
    public var segments: [Entry]

    enum CodingKeys: String, CodingKey {
        case baseSHA256 = "base_sha256", segments
    }

    public init(baseSHA256: String, segments: [Entry] = []) {
        self.baseSHA256 = baseSHA256
        self.segments = segments
    }

    public static func path(forIndex index: String) -> String { index + ".segments" }

    /// A segment file's path: in the index's folder.
    public static func segmentPath(_ file: String, forIndex index: String) -> String {
        URL(fileURLWithPath: index).deletingLastPathComponent().appendingPathComponent(file).path
    }

    /// The file name of the index's segment number `number` (from 1).
    public static func segmentFile(_ number: Int, forIndex index: String) -> String {
        URL(fileURLWithPath: index).lastPathComponent + ".segment-\(number)"
    }

    /// The index's segment list, or nil when it has none.
    public static func read(forIndex index: String) throws -> SegmentList? {
        let listPath = path(forIndex: index)
        guard FileManager.default.fileExists(atPath: listPath) else { return nil }
        guard let data = FileManager.default.contents(atPath: listPath) else {
            throw IndexError(path: listPath, reason: "cannot be read")
        }
        do {
            let list = try JSONDecoder().decode(SegmentList.self, from: data)
            guard list.segments.allSatisfy({ !$0.file.contains("/") && !$0.file.isEmpty }) else {
                throw IndexError(path: listPath, reason: "names a segment outside the index's folder")
            }
            return list
        } catch let error as IndexError {
            throw error
        } catch {
            throw IndexError(path: listPath, reason: "is not a segment list: \(error)")
        }
    }

    /// Writes the list beside the index, atomically.
    public func write(forIndex index: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        try AtomicFile.write(Array(try encoder.encode(self)) + [0x0A], to: Self.path(forIndex: index))
    }
}
