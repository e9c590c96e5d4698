import CBrotli
import CSnappy
import CZstd
import CLZ4
import CZlib

/// A column chunk decoded: levels per entry and, for the entries that hold one, where the value
/// lies: in a decompressed page or the dictionary, not copied out of it.
struct ParquetColumn {
    var repetitionLevels: [UInt64] = []
    var definitionLevels: [UInt64] = []
    /// The buffers values lie in: decompressed pages, the dictionary page, rebuilt values
    /// (DELTA_BYTE_ARRAY prefixes) and integers as decimal literals.
    var buffers: [[UInt8]] = []
    var values: [Value] = []
    var isNumeric = false
    var uncompressedBytes = 0

    struct Value {
        var buffer: Int32
        var start: Int32
        var count: Int32
    }

    var valueCount: Int { values.count }

    func withValue<R>(_ index: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let value = values[index]
        return try buffers[Int(value.buffer)].withUnsafeBytes { bytes in
            try body(UnsafeRawBufferPointer(rebasing: bytes[Int(value.start)..<Int(value.start + value.count)]))
        }
    }

    /// Appends a buffer that values will point into; returns its number.
    mutating func add(_ buffer: [UInt8]) -> Int32 {
        buffers.append(buffer)
        return Int32(buffers.count - 1)
    }
}

/// A problem inside a column chunk; the reader adds file, row group and column.
struct ParquetProblem: Error, CustomStringConvertible {
    var kind: ShardError.Kind
    var reason: String
    var description: String { reason }
}

/// Decodes one column chunk's pages: dictionary, data v1 and v2; PLAIN, PLAIN_DICTIONARY /
/// RLE_DICTIONARY, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY (and PLAIN / DELTA_BINARY_PACKED
/// integers for id columns); codecs uncompressed, snappy, gzip, zstd, brotli, lz4_raw and
/// Hadoop-framed lz4.
struct ParquetColumnDecoder {
    let type: ParquetMetadata.PhysicalType
    let codec: ParquetMetadata.Codec
    let maximumDefinition: Int
    let maximumRepetition: Int
    /// Pages larger than this once decompressed are refused unless their compressed size explains
    /// them (a crafted header must not make the reader allocate without bound).
    static let uncheckedPageBytes = 256 << 20

    func decode(chunk: UnsafeRawBufferPointer, valueCount: Int) throws -> ParquetColumn {
        var column = ParquetColumn()
        column.isNumeric = type != .byteArray
        var dictionary: ParquetColumn?
        var position = 0
        var entries = 0
        while entries < valueCount {
            guard position < chunk.count else {
                throw ParquetProblem(kind: .truncatedStream, reason: "the column chunk ends after \(entries) of \(valueCount) values")
            }
            var reader = ThriftCompactReader(UnsafeRawBufferPointer(rebasing: chunk[position...]))
            let header: ParquetMetadata.PageHeader
            do {
                header = try ParquetMetadata.pageHeader(&reader)
            } catch {
                throw ParquetProblem(kind: .corruptStream, reason: "page header at chunk byte \(position): \(error)")
            }
            position += reader.position
            guard Int(header.compressedSize) <= chunk.count - position else {
                throw ParquetProblem(kind: .truncatedStream, reason: "a page of \(header.compressedSize) bytes runs past the column chunk")
            }
            let body = UnsafeRawBufferPointer(rebasing: chunk[position..<(position + Int(header.compressedSize))])
            position += Int(header.compressedSize)
            switch ParquetMetadata.PageType(rawValue: header.type) {
            case .dictionary:
                let page = try decompress(body, to: Int(header.uncompressedSize))
                var values = ParquetColumn()
                let buffer = values.add(page)
                try page.withUnsafeBytes { bytes in
                    var cursor = ByteCursor(bytes)
                    try plain(&cursor, count: Int(header.valueCount), buffer: buffer, into: &values)
                }
                column.uncompressedBytes += page.count
                // The dictionary's values point into its page, kept as one of the column's buffers.
                let base = Int32(column.buffers.count)
                column.buffers += values.buffers
                dictionary = values
                dictionary?.values = values.values.map { ParquetColumn.Value(buffer: $0.buffer + base, start: $0.start, count: $0.count) }
            case .data:
                let page = try decompress(body, to: Int(header.uncompressedSize))
                column.uncompressedBytes += page.count
                let buffer = column.add(page)
                try page.withUnsafeBytes { bytes in
                    var cursor = ByteCursor(bytes)
                    let count = Int(header.valueCount)
                    if maximumRepetition > 0 {
                        let length = Int(try cursor.littleEndian(width: 4))
                        var levels = ByteCursor(try cursor.take(length))
                        try Self.hybrid(&levels, width: Self.bitWidth(maximumRepetition), count: count, into: &column.repetitionLevels)
                    }
                    let present = try definitionLevels(&cursor, lengthPrefixed: true, count: count, into: &column)
                    try values(&cursor, encoding: header.encoding, count: present, dictionary: dictionary, buffer: buffer, into: &column)
                }
                entries += Int(header.valueCount)
            case .dataV2:
                let levelBytes = Int(header.repetitionBytes) + Int(header.definitionBytes)
                guard levelBytes <= body.count else {
                    throw ParquetProblem(kind: .corruptStream, reason: "levels of \(levelBytes) bytes in a page of \(body.count)")
                }
                let count = Int(header.valueCount)
                if maximumRepetition > 0 {
                    var levels = ByteCursor(UnsafeRawBufferPointer(rebasing: body[0..<Int(header.repetitionBytes)]))
                    try Self.hybrid(&levels, width: Self.bitWidth(maximumRepetition), count: count, into: &column.repetitionLevels)
                }
                var definitions = ByteCursor(UnsafeRawBufferPointer(rebasing: body[Int(header.repetitionBytes)..<levelBytes]))
                let present = try definitionLevels(&definitions, lengthPrefixed: false, count: count, into: &column)
                let rest = UnsafeRawBufferPointer(rebasing: body[levelBytes...])
                let page = header.isCompressed && codec != .uncompressed
                    ? try decompress(rest, to: Int(header.uncompressedSize) - levelBytes) : Array(rest)
                column.uncompressedBytes += page.count + levelBytes
                let buffer = column.add(page)
                try page.withUnsafeBytes { bytes in
                    var cursor = ByteCursor(bytes)
                    try values(&cursor, encoding: header.encoding, count: present, dictionary: dictionary, buffer: buffer, into: &column)
                }
                entries += count
            default:
                continue // index pages and pages of kinds this reader does not need
            }
        }
        if maximumRepetition == 0 { column.repetitionLevels = [] }
        return column
    }

    /// Reads the definition levels of `count` entries (all at the maximum when the column has none)
    /// and returns how many entries hold a value.
    func definitionLevels(_ cursor: inout ByteCursor, lengthPrefixed: Bool, count: Int, into column: inout ParquetColumn) throws -> Int {
        guard maximumDefinition > 0 else {
            column.definitionLevels.append(contentsOf: repeatElement(0, count: count))
            return count
        }
        let start = column.definitionLevels.count
        if lengthPrefixed {
            let length = Int(try cursor.littleEndian(width: 4))
            var levels = ByteCursor(try cursor.take(length))
            try Self.hybrid(&levels, width: Self.bitWidth(maximumDefinition), count: count, into: &column.definitionLevels)
        } else {
            try Self.hybrid(&cursor, width: Self.bitWidth(maximumDefinition), count: count, into: &column.definitionLevels)
        }
        var present = 0
        for level in column.definitionLevels[start...] {
            guard level <= UInt64(maximumDefinition) else {
                throw ParquetProblem(kind: .corruptStream, reason: "a definition level of \(level) above the column's maximum \(maximumDefinition)")
            }
            if level == UInt64(maximumDefinition) { present += 1 }
        }
        return present
    }

    /// Decodes `count` values of the page that `cursor` reads, which is `column`'s buffer `buffer`.
    func values(_ cursor: inout ByteCursor, encoding raw: Int32, count: Int, dictionary: ParquetColumn?, buffer: Int32,
                into column: inout ParquetColumn) throws {
        guard let encoding = ParquetMetadata.Encoding(rawValue: raw) else {
            throw ParquetProblem(kind: .corruptStream, reason: "unknown encoding \(raw)")
        }
        switch encoding {
        case .plain:
            try plain(&cursor, count: count, buffer: buffer, into: &column)
        case .plainDictionary, .rleDictionary:
            guard let dictionary else { throw ParquetProblem(kind: .corruptStream, reason: "dictionary-encoded values without a dictionary page") }
            let width = Int(try cursor.byte())
            guard width <= 32 else { throw ParquetProblem(kind: .corruptStream, reason: "dictionary indices of \(width) bits") }
            var indices: [UInt64] = []
            try Self.hybrid(&cursor, width: width, count: count, into: &indices)
            column.values.reserveCapacity(column.values.count + indices.count)
            for index in indices {
                guard index < UInt64(dictionary.values.count) else {
                    throw ParquetProblem(kind: .corruptStream, reason: "dictionary index \(index) of a dictionary of \(dictionary.values.count)")
                }
                column.values.append(dictionary.values[Int(index)])
            }
        case .deltaLengthByteArray where type == .byteArray:
            var lengths: [Int64] = []
            try Self.deltaBinaryPacked(&cursor, count: count, into: &lengths)
            for length in lengths {
                guard length >= 0, length <= Int64(Int32.max) else { throw ParquetProblem(kind: .corruptStream, reason: "a value length of \(length)") }
                try take(&cursor, Int(length), buffer: buffer, into: &column)
            }
        case .deltaByteArray where type == .byteArray:
            var prefixes: [Int64] = []
            var lengths: [Int64] = []
            try Self.deltaBinaryPacked(&cursor, count: count, into: &prefixes)
            try Self.deltaBinaryPacked(&cursor, count: count, into: &lengths)
            // Each value is the previous one's prefix and a suffix: rebuilt into a buffer of their own.
            var rebuilt: [UInt8] = []
            var previous = 0..<0
            var ranges: [Range<Int>] = []
            for (prefix, length) in zip(prefixes, lengths) {
                guard prefix >= 0, length >= 0, Int(prefix) <= previous.count, rebuilt.count + Int(prefix) + Int(length) <= Int(Int32.max) else {
                    throw ParquetProblem(kind: .corruptStream, reason: "a prefix of \(prefix) bytes after a value of \(previous.count)")
                }
                let start = rebuilt.count
                rebuilt.append(contentsOf: rebuilt[previous.lowerBound..<(previous.lowerBound + Int(prefix))])
                rebuilt.append(contentsOf: try cursor.take(Int(length)))
                previous = start..<rebuilt.count
                ranges.append(previous)
            }
            let rebuiltBuffer = column.add(rebuilt)
            for range in ranges {
                column.values.append(.init(buffer: rebuiltBuffer, start: Int32(range.lowerBound), count: Int32(range.count)))
            }
        case .deltaBinaryPacked where type == .int32 || type == .int64:
            var numbers: [Int64] = []
            try Self.deltaBinaryPacked(&cursor, count: count, into: &numbers)
            appendDecimals(numbers.map { type == .int32 ? Int64(Int32(truncatingIfNeeded: $0)) : $0 }, to: &column)
        default:
            throw ParquetProblem(kind: .corruptStream, reason: "encoding \(encoding) is not supported for \(type) values")
        }
    }

    func plain(_ cursor: inout ByteCursor, count: Int, buffer: Int32, into column: inout ParquetColumn) throws {
        switch type {
        case .byteArray:
            column.values.reserveCapacity(column.values.count + count)
            for _ in 0..<count {
                let length = Int(try cursor.littleEndian(width: 4))
                try take(&cursor, length, buffer: buffer, into: &column)
            }
        case .int32:
            appendDecimals(try (0..<count).map { _ in Int64(Int32(truncatingIfNeeded: try cursor.littleEndian(width: 4))) }, to: &column)
        case .int64:
            appendDecimals(try (0..<count).map { _ in Int64(bitPattern: try cursor.littleEndian(width: 8)) }, to: &column)
        default:
            throw ParquetProblem(kind: .wrongFieldType, reason: "\(type) values are neither strings nor integers")
        }
    }

    /// Records the next `length` bytes of the page as a value, where they lie.
    func take(_ cursor: inout ByteCursor, _ length: Int, buffer: Int32, into column: inout ParquetColumn) throws {
        let start = cursor.position
        _ = try cursor.take(length)
        guard start + length <= Int(Int32.max) else { throw ParquetProblem(kind: .corruptStream, reason: "a page over 2 GiB") }
        column.values.append(.init(buffer: buffer, start: Int32(start), count: Int32(length)))
    }

    /// Integers (id columns) as their decimal literals, in a buffer of their own.
    func appendDecimals(_ numbers: [Int64], to column: inout ParquetColumn) {
        var literals: [UInt8] = []
        var ranges: [Range<Int>] = []
        for number in numbers {
            let start = literals.count
            literals.append(contentsOf: String(number).utf8)
            ranges.append(start..<literals.count)
        }
        let buffer = column.add(literals)
        for range in ranges { column.values.append(.init(buffer: buffer, start: Int32(range.lowerBound), count: Int32(range.count))) }
    }

    func decompress(_ body: UnsafeRawBufferPointer, to size: Int) throws -> [UInt8] {
        guard size >= 0 else { throw ParquetProblem(kind: .corruptStream, reason: "a negative page size") }
        if codec == .uncompressed {
            guard body.count == size else {
                throw ParquetProblem(kind: .corruptStream, reason: "an uncompressed page of \(body.count) bytes that claims \(size)")
            }
            return Array(body)
        }
        guard size <= max(Self.uncheckedPageBytes, body.count * 1024) else {
            throw ParquetProblem(kind: .corruptStream, reason: "a page of \(body.count) compressed bytes that claims \(size) decompressed")
        }
        var produced = 0
        // Written by the codec, not zeroed first: a page is decompressed once into fresh memory.
        let output = try [UInt8](unsafeUninitializedCapacity: size) { out, initialized in
            produced = try decompress(body, into: UnsafeMutableRawBufferPointer(out), size: size)
            initialized = min(produced, size)
        }
        guard produced == size else {
            throw ParquetProblem(kind: .corruptStream, reason: "\(codec): a page of \(produced) bytes that claims \(size)")
        }
        return output
    }

    func decompress(_ body: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer, size: Int) throws -> Int {
        // An empty page or an empty output produces nothing; the caller compares with the claim.
        guard let source = body.baseAddress, let target = out.baseAddress else { return 0 }
        switch codec {
        case .snappy:
            var length = size
            guard snappy_uncompress(source.assumingMemoryBound(to: CChar.self), body.count,
                                    target.assumingMemoryBound(to: CChar.self), &length) == SNAPPY_OK else {
                throw ParquetProblem(kind: .corruptStream, reason: "snappy: corrupt page")
            }
            return length
        case .zstd:
            let result = ZSTD_decompress(target, size, source, body.count)
            if ZSTD_isError(result) != 0 {
                throw ParquetProblem(kind: .corruptStream, reason: "zstd: \(String(cString: ZSTD_getErrorName(result)))")
            }
            return result
        case .gzip:
            return try Self.inflate(source, count: body.count, into: target, capacity: size)
        case .lz4Raw:
            let result = LZ4_decompress_safe(source.assumingMemoryBound(to: CChar.self), target.assumingMemoryBound(to: CChar.self),
                                             Int32(body.count), Int32(size))
            guard result >= 0 else { throw ParquetProblem(kind: .corruptStream, reason: "lz4_raw: corrupt page") }
            return Int(result)
        case .lz4:
            return try Self.hadoopLZ4(body, into: target, capacity: size)
        case .brotli:
            var length = size
            guard BrotliDecoderDecompress(body.count, source.assumingMemoryBound(to: UInt8.self), &length,
                                          target.assumingMemoryBound(to: UInt8.self)) == BROTLI_DECODER_RESULT_SUCCESS else {
                throw ParquetProblem(kind: .corruptStream, reason: "brotli: corrupt page")
            }
            return length
        default:
            throw ParquetProblem(kind: .corruptStream, reason: "codec \(codec) is not supported (write with snappy, zstd, gzip, brotli or lz4_raw)")
        }
    }

    static func inflate(_ source: UnsafeRawPointer, count: Int, into target: UnsafeMutableRawPointer, capacity: Int) throws -> Int {
        var stream = z_stream()
        // 15 + 32: a gzip or a zlib header, told by its first bytes.
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw ParquetProblem(kind: .unreadable, reason: "gzip: cannot initialise zlib")
        }
        defer { inflateEnd(&stream) }
        stream.next_in = UnsafeMutablePointer(mutating: source.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(count)
        stream.next_out = target.assumingMemoryBound(to: Bytef.self)
        stream.avail_out = uInt(capacity)
        let status = CZlib.inflate(&stream, Z_FINISH)
        guard status == Z_STREAM_END else {
            throw ParquetProblem(kind: .corruptStream, reason: "gzip: corrupt page (zlib status \(status))")
        }
        return capacity - Int(stream.avail_out)
    }

    /// LZ4 as Hadoop frames it (Arrow's LZ4 codec): blocks of a big-endian decompressed and
    /// compressed length, then a raw LZ4 block.
    static func hadoopLZ4(_ body: UnsafeRawBufferPointer, into target: UnsafeMutableRawPointer, capacity: Int) throws -> Int {
        var cursor = ByteCursor(body)
        var produced = 0
        while !cursor.isAtEnd {
            let expected = Int(try cursor.littleEndian(width: 4).byteSwapped >> 32)
            let compressed = Int(try cursor.littleEndian(width: 4).byteSwapped >> 32)
            let block = try cursor.take(compressed)
            guard expected <= capacity - produced, let source = block.baseAddress else {
                throw ParquetProblem(kind: .corruptStream, reason: "lz4: a block larger than its page")
            }
            let result = LZ4_decompress_safe(source.assumingMemoryBound(to: CChar.self), (target + produced).assumingMemoryBound(to: CChar.self),
                                             Int32(compressed), Int32(expected))
            guard result == Int32(expected) else { throw ParquetProblem(kind: .corruptStream, reason: "lz4: corrupt page") }
            produced += expected
        }
        return produced
    }

    static func bitWidth(_ maximum: Int) -> Int {
        maximum == 0 ? 0 : Int.bitWidth - maximum.leadingZeroBitCount
    }

    /// The RLE / bit-packing hybrid of levels and dictionary indices: `count` values appended.
    static func hybrid(_ cursor: inout ByteCursor, width: Int, count: Int, into values: inout [UInt64]) throws {
        let target = values.count + count
        values.reserveCapacity(target)
        while values.count < target {
            let header = try cursor.varint()
            if header & 1 == 0 {
                let run = Int(clamping: header >> 1)
                let value = try cursor.littleEndian(width: (width + 7) / 8)
                values.append(contentsOf: repeatElement(value, count: min(run, target - values.count)))
            } else {
                // Groups of eight values, `width` bytes each. Writers pad a run past the values
                // wanted (DuckDB: 256 levels for 3 rows); only those are unpacked.
                let groups = Int(clamping: header >> 1)
                let bytes = groups.multipliedReportingOverflow(by: width)
                guard !bytes.overflow, bytes.partialValue <= cursor.remaining else { throw cursor.fail("bit-packed groups past the end") }
                let wanted = min(groups * 8, target - values.count)
                let start = cursor.position
                try cursor.unpack(count: wanted, width: width, into: &values)
                _ = try cursor.take(bytes.partialValue - (cursor.position - start))
            }
        }
    }

    /// DELTA_BINARY_PACKED: blocks of miniblocks of bit-packed deltas from a first value.
    static func deltaBinaryPacked(_ cursor: inout ByteCursor, count limit: Int, into values: inout [Int64]) throws {
        let blockSize = try cursor.varint()
        let miniblocks = try cursor.varint()
        let total = try cursor.varint()
        var last = try cursor.zigzag()
        guard blockSize > 0, blockSize % 128 == 0, blockSize <= 1 << 16, miniblocks > 0, blockSize % miniblocks == 0,
              (blockSize / miniblocks) % 32 == 0, total <= UInt64(limit) + 1 else {
            throw cursor.fail("a malformed DELTA_BINARY_PACKED header")
        }
        let target = values.count + Int(total)
        guard total > 0 else { return }
        values.append(last)
        let perMiniblock = Int(blockSize / miniblocks)
        var deltas: [UInt64] = []
        while values.count < target {
            let minimum = try cursor.zigzag()
            let widths = try cursor.take(Int(miniblocks))
            for width in widths {
                guard values.count < target else { break }
                guard width <= 64 else { throw cursor.fail("a miniblock of \(width) bits") }
                deltas.removeAll(keepingCapacity: true)
                try cursor.unpack(count: perMiniblock, width: Int(width), into: &deltas)
                for delta in deltas where values.count < target {
                    last = last &+ minimum &+ Int64(bitPattern: delta)
                    values.append(last)
                }
            }
        }
    }
}
