#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which fields a reader takes from each record, and how strict it is.
public struct ReaderOptions: Sendable, Equatable {
    /// The strings that are documents: each one a document of its own (a segment of its record).
    public var textPaths = [FieldPath(key: "text")]
    /// The strings a document answers (the index build's prompts; a scan ignores them).
    public var promptPaths: [FieldPath] = []
    public var idPath = FieldPath(key: "id")
    /// Extra record-level strings to keep per document (in order), e.g. model and vendor.
    public var extraPaths: [FieldPath] = []
    /// Lines longer than this are skipped and reported (the default admits 64 MB documents).
    public var maximumLineBytes = 256 << 20
    /// Target size of the texts in one batch.
    public var batchBytes = 4 << 20
    /// A bad line ends the shard instead of being counted and skipped.
    public var strict = false
    /// A Parquet shard's row groups are scanned as tasks of about this many bytes (local threads
    /// or Slurm array tasks); the manifest is the same for every value.
    public var parquetTaskBytes = 64 << 20
    /// Hash the compressed bytes with SHA-256 while reading (for provenance).
    public var computeSHA256 = false

    public init() {}

    /// Reads records of a usual shape: its text and prompt paths.
    public mutating func use(_ format: RecordFormat) {
        textPaths = format.textPaths.compactMap { try? FieldPath($0) }
        promptPaths = format.promptPaths.compactMap { try? FieldPath($0) }
    }

    /// The paths as the pipeline file and the dedup stage's fingerprint spell them.
    var fieldsDescription: String {
        "text \(textPaths.map(\.description).joined(separator: ",")) id \(idPath)"
    }
}

/// What reading one shard produced, besides its documents.
public struct ShardReadResult: Sendable {
    public var path: String
    public var format: ShardFormat?
    public var compressedBytes = 0
    public var uncompressedBytes = 0
    public var documents = 0
    public var lines = 0
    public var badLines = 0
    /// Skipped lines (up to a limit) and, last, the error that ended the shard if one did.
    public var errors: [ShardError] = []
    /// Set when the shard could not be read to its end.
    public var fatalError: ShardError?
    public var sha256: String?

    static let keptLineErrors = 100
}

/// Streams the documents of one shard: detects the compression by magic bytes, decompresses with the
/// C libraries, splits lines and extracts fields, handing out batches of bounded size.
public struct ShardReader {
    public let path: String
    public let shardIndex: Int
    public let options: ReaderOptions
    /// Of a Parquet shard, the row groups to read (nil: all).
    public let rowGroups: Range<Int>?

    public init(path: String, shardIndex: Int = 0, options: ReaderOptions = ReaderOptions(), rowGroups: Range<Int>? = nil) {
        self.path = path
        self.shardIndex = shardIndex
        self.options = options
        self.rowGroups = rowGroups
    }

    /// Reads the shard to its end (or its first fatal error), calling `onBatch` with each full batch
    /// and the last partial one. Never throws for bad input: errors are in the result.
    public func read(onBatch: (DocumentBatch) throws -> Void) rethrows -> ShardReadResult {
        var result = ShardReadResult(path: path)
        // Sized for a full batch at once: grown by doubling, each batch's texts were copied
        // about once more.
        func newBatch(_ sequence: Int) -> DocumentBatch {
            var batch = DocumentBatch(shardIndex: shardIndex, sequence: sequence)
            batch.bytes.reserveCapacity(options.batchBytes + (64 << 10))
            return batch
        }
        var batch = newBatch(0)
        do {
            let file = try FileSource(path: path, computeSHA256: options.computeSHA256)
            let selector = RecordSelector(options: options)
            let records = RecordAppender(selector: selector, path: path, options: options)
            func record(_ error: ShardError) throws {
                result.badLines += 1
                if options.strict { throw error }
                if result.errors.count < ShardReadResult.keptLineErrors { result.errors.append(error) }
            }
            func flushIfFull() throws {
                if batch.bytes.count >= options.batchBytes {
                    try onBatch(batch)
                    batch = newBatch(batch.sequence + 1)
                }
            }
            let format = try Self.format(of: file)
            result.format = format
            if format == .parquet {
                let parquet = try ParquetFile(path: path, source: file)
                if let rowGroups, rowGroups.upperBound > parquet.metadata.rowGroups.count {
                    throw ShardError(shard: path, kind: .unreadable,
                                     reason: "row groups \(rowGroups) asked for, the file has \(parquet.metadata.rowGroups.count)")
                }
                try parquet.read(selector: selector, rowGroups: rowGroups) { row in
                    result.lines = row.number
                    if let problem = row.problem {
                        try record(problem)
                        return
                    }
                    let mark = batch.bytes.count
                    batch.bytes.append(contentsOf: row.bytes)
                    var captures = row.captures
                    captures.shift(by: mark)
                    if let error = records.append(captures, line: row.number, offset: row.rowGroup, mark: mark, to: &batch) {
                        try record(error)
                    } else {
                        result.documents += 1
                    }
                    try flushIfFull()
                }
                result.uncompressedBytes = parquet.uncompressedBytes
                // Provenance hashes the whole file, not only the columns read.
                if options.computeSHA256 { try file.drain() } else { file.skipToEnd() }
            } else {
                let source = try Self.stream(format, of: file)
                let extractor = JSONFieldExtractor(selector: selector)
                var captures = RecordCaptures()
                let splitter = LineSplitter(source: source, maximumLineBytes: options.maximumLineBytes)
                result.uncompressedBytes = try splitter.forEachLine { line in
                    result.lines = line.number
                    if let over = line.tooLongBy {
                        try record(ShardError(shard: path, line: line.number, kind: .lineTooLong,
                                              reason: "line of \(over) bytes exceeds the limit of \(options.maximumLineBytes)"))
                        return
                    }
                    var bytes = line.bytes
                    // A byte-order mark (pandas' utf-8-sig, Windows tools) is not part of the JSON.
                    if line.number == 1, bytes.starts(with: Self.byteOrderMark) {
                        bytes = UnsafeRawBufferPointer(rebasing: bytes[3...])
                    }
                    if Self.isBlank(bytes) { return }
                    let mark = batch.bytes.count
                    do throws(JSONFieldExtractor.Problem) {
                        try extractor.extract(bytes, into: &batch.bytes, captures: &captures)
                    } catch {
                        batch.bytes.removeSubrange(mark...)
                        try record(ShardError(shard: path, line: line.number, kind: error.kind, reason: error.reason))
                        return
                    }
                    if let error = records.append(captures, line: line.number, offset: line.offset, mark: mark, to: &batch) {
                        try record(error)
                        return
                    }
                    result.documents += 1
                    try flushIfFull()
                }
            }
            result.compressedBytes = file.bytesRead
            result.sha256 = file.sha256Hex()
            if result.compressedBytes == 0 {
                throw ShardError(shard: path, kind: .emptyFile, reason: "the file is empty (0 bytes)")
            }
        } catch let error as ShardError {
            result.fatalError = error
            result.errors.append(error)
        } catch {
            let wrapped = ShardError(shard: path, kind: .unreadable, reason: "\(error)")
            result.fatalError = wrapped
            result.errors.append(wrapped)
        }
        if !batch.documents.isEmpty || batch.sequence == 0 {
            try onBatch(batch)
        }
        return result
    }

    static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    static func isBlank(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    }

    /// The format the file's first bytes show; a file whose name claims a format its bytes do not
    /// have is refused.
    static func format(of file: FileSource) throws -> ShardFormat {
        let magic = file.peek(count: 4)
        let format = ShardFormat.detect(magic: magic, path: file.path)
        let claimed = ShardFormat.claimed(byPath: file.path)
        if claimed != .plain, format == .plain, !magic.isEmpty {
            throw ShardError(shard: file.path, kind: .formatMismatch,
                             reason: "named as \(claimed.rawValue) but its first bytes (\(magic.map(byteHex).joined(separator: " "))) are not a \(claimed.rawValue) header")
        }
        return format
    }

    /// The decompressor that a stream format calls for.
    static func stream(_ format: ShardFormat, of file: FileSource) throws -> ByteSource {
        switch format {
        case .zstd: return try ZstdDecompressor(file: file)
        case .lz4: return try LZ4Decompressor(file: file)
        case .gzip: return try GzipDecompressor(file: file)
        case .plain: return file
        case .parquet: throw ShardError(shard: file.path, kind: .formatMismatch, reason: "a Parquet file is not a byte stream")
        }
    }
}

/// Turns one record's captures into its documents in the batch: one per text segment, the texts
/// packed at the record's start in the batch buffer, ids, prompts and extras as strings.
struct RecordAppender {
    let selector: RecordSelector
    let path: String
    let options: ReaderOptions

    init(selector: RecordSelector, path: String, options: ReaderOptions) {
        self.selector = selector
        self.path = path
        self.options = options
    }

    /// Appends the record's documents, or returns why the record has none (its bytes removed).
    func append(_ captures: RecordCaptures, line: Int, offset: Int, mark: Int, to batch: inout DocumentBatch) -> ShardError? {
        func string(_ value: JSONFieldExtractor.Value) -> String? {
            switch value {
            case .string(let range), .number(let range): return String(decoding: batch.bytes[range], as: UTF8.self)
            default: return nil
            }
        }
        var segments = selector.segments(of: captures)
        if segments.isEmpty {
            // A scalar text field that holds no string is an error; a record whose paths select no
            // string (a chat without an assistant turn) is one empty document, so that attribute
            // files keep one line per record.
            for field in 0..<selector.textPaths.count where selector.fields[field].isScalar {
                let value = captures.first(field)
                if value != .absent {
                    batch.bytes.removeSubrange(mark...)
                    return ShardError(shard: path, line: line, kind: .wrongFieldType,
                                      reason: "\"\(selector.fields[field])\" is not a string")
                }
            }
            guard (0..<selector.textPaths.count).contains(where: { captures.rootsSeen[selector.rootKey(of: $0)] }) else {
                batch.bytes.removeSubrange(mark...)
                let names = selector.textPaths.map { "\"\($0)\"" }.joined(separator: " or ")
                return ShardError(shard: path, line: line, kind: .missingField, reason: "no \(names) field")
            }
            segments = [RecordSegment(field: nil, turn: nil, textRange: mark..<mark, promptRanges: [])]
        }
        let id = string(captures.first(selector.idField))
        let extras = selector.extraPaths.indices.map { string(captures.first(selector.idField + 1 + $0)) }
        let prompts = segments.map { segment -> String? in
            guard !segment.promptRanges.isEmpty else { return nil }
            return segment.promptRanges.map { String(decoding: batch.bytes[$0], as: UTF8.self) }.joined(separator: "\n")
        }
        // Only the texts stay in the buffer, moved down in order (their ranges ascend).
        var written = mark
        batch.bytes.withUnsafeMutableBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            for index in segments.indices {
                let range = segments[index].textRange
                if range.lowerBound != written { memmove(base + written, base + range.lowerBound, range.count) }
                segments[index].textRange = written..<(written + range.count)
                written += range.count
            }
        }
        batch.bytes.removeSubrange(written...)
        for (segment, prompt) in zip(segments, prompts) {
            batch.documents.append(DocumentRecord(line: line, offset: offset, textRange: segment.textRange, id: id, extras: extras,
                                                  field: segment.field, turn: segment.turn, prompt: prompt))
        }
        return nil
    }
}
