#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which JSON fields a reader takes from each line, and how strict it is.
public struct ReaderOptions: Sendable, Equatable {
    public var textField = "text"
    public var idField = "id"
    /// Extra string fields to keep per document (in order), e.g. `["model", "vendor"]`.
    public var extraFields: [String] = []
    /// Lines longer than this are skipped and reported (the default admits 64 MB documents).
    public var maximumLineBytes = 256 << 20
    /// Target size of the texts in one batch.
    public var batchBytes = 4 << 20
    /// A bad line ends the shard instead of being counted and skipped.
    public var strict = false
    /// Hash the compressed bytes with SHA-256 while reading (for provenance).
    public var computeSHA256 = false

    public init() {}
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

    public init(path: String, shardIndex: Int = 0, options: ReaderOptions = ReaderOptions()) {
        self.path = path
        self.shardIndex = shardIndex
        self.options = options
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
            let (format, source) = try Self.open(file: file)
            result.format = format
            let extractor = JSONFieldExtractor(keys: [options.textField, options.idField] + options.extraFields)
            var values: [JSONFieldExtractor.Value] = []
            let splitter = LineSplitter(source: source, maximumLineBytes: options.maximumLineBytes)

            func record(_ error: ShardError) throws {
                result.badLines += 1
                if options.strict { throw error }
                if result.errors.count < ShardReadResult.keptLineErrors { result.errors.append(error) }
            }

            result.uncompressedBytes = try splitter.forEachLine { line in
                result.lines = line.number
                if let over = line.tooLongBy {
                    try record(ShardError(shard: path, line: line.number, kind: .lineTooLong,
                                          reason: "line of \(over) bytes exceeds the limit of \(options.maximumLineBytes)"))
                    return
                }
                if Self.isBlank(line.bytes) { return }
                let mark = batch.bytes.count
                do throws(JSONFieldExtractor.Problem) {
                    try extractor.extract(line.bytes, into: &batch.bytes, values: &values)
                } catch {
                    batch.bytes.removeSubrange(mark...)
                    try record(ShardError(shard: path, line: line.number, kind: error.kind, reason: error.reason))
                    return
                }
                guard case .string(let textRange) = values[0] else {
                    batch.bytes.removeSubrange(mark...)
                    let absent = values[0] == .absent
                    try record(ShardError(shard: path, line: line.number, kind: absent ? .missingField : .wrongFieldType,
                                          reason: absent ? "no \"\(options.textField)\" field" : "\"\(options.textField)\" is not a string"))
                    return
                }
                let strings = values.dropFirst().map { value -> String? in
                    switch value {
                    case .string(let range), .number(let range): return String(decoding: batch.bytes[range], as: UTF8.self)
                    default: return nil
                    }
                }
                // Only the text stays in the buffer: ids and extras now live in Strings.
                batch.bytes.removeSubrange(textRange.upperBound...)
                batch.documents.append(DocumentRecord(line: line.number, offset: line.offset, textRange: textRange,
                                                      id: strings[0], extras: Array(strings.dropFirst())))
                result.documents += 1
                if batch.bytes.count >= options.batchBytes {
                    try onBatch(batch)
                    batch = newBatch(batch.sequence + 1)
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

    static func isBlank(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    }

    /// Opens the decompressor that the file's first bytes call for.
    static func open(file: FileSource) throws -> (ShardFormat, ByteSource) {
        let magic = file.peek(count: 4)
        let format = ShardFormat.detect(magic: magic, path: file.path)
        let claimed = ShardFormat.claimed(byPath: file.path)
        if claimed != .plain, format == .plain, !magic.isEmpty {
            throw ShardError(shard: file.path, kind: .formatMismatch,
                             reason: "named as \(claimed.rawValue) but its first bytes (\(magic.map(byteHex).joined(separator: " "))) are not a \(claimed.rawValue) header")
        }
        switch format {
        case .zstd: return (format, try ZstdDecompressor(file: file))
        case .lz4: return (format, try LZ4Decompressor(file: file))
        case .gzip: return (format, try GzipDecompressor(file: file))
        case .plain: return (format, file)
        }
    }
}
