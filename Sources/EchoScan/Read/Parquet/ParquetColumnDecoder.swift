import CSnappy
import CZstd
import CLZ4
import CZlib

/// A column chunk decoded: levels per entry and the values of the entries that hold one.
struct ParquetColumn {
    var repetitionLevels: [UInt64] = []
    var definitionLevels: [UInt64] = []
    /// The non-null values' bytes, end to end (integers as decimal literals).
    var storage: [UInt8] = []
    /// End of each value in `storage`.
    var ends: [Int] = []
    var isNumeric = false
    var uncompressedBytes = 0

    func value(_ index: Int) -> Range<Int> {
        (index == 0 ? 0 : ends[index - 1])..<ends[index]
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
/// integers for id columns); codecs uncompressed, snappy, gzip, zstd, lz4_raw and Hadoop-framed lz4.
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
                try page.withUnsafeBytes { bytes in
                    var cursor = ByteCursor(bytes)
                    try plain(&cursor, count: Int(header.valueCount), into: &values)
                }
                column.uncompressedBytes += page.count
                dictionary = values
            case .data:
                let page = try decompress(body, to: Int(header.uncompressedSize))
                column.uncompressedBytes += page.count
                try page.withUnsafeBytes { bytes in
                    var cursor = ByteCursor(bytes)
                    let count = Int(header.valueCount)
                    if maximumRepetition > 0 {
                        let length = Int(try cursor.littleEndian(width: 4))
                        var levels = ByteCursor(try cursor.take(length))
                        try Self.hybrid(&levels, width: Self.bitWidth(maximumRepetition), count: count, into: &column.repetitionLevels)
                    }
                    let present = try definitionLevels(&cursor, lengthPrefixed: true, count: count, into: &column)
                    try values(&cursor, encoding: header.encoding, count: present, dictionary: dictionary, into: &column)
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
                try page.withUnsafeBytes { bytes in
                    var cursor = ByteCursor(bytes)
                    try values(&cursor, encoding: header.encoding, count: present, dictionary: dictionary, into: &column)
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

    func values(_ cursor: inout ByteCursor, encoding raw: Int32, count: Int, dictionary: ParquetColumn?, into column: inout ParquetColumn) throws {
        guard let encoding = ParquetMetadata.Encoding(rawValue: raw) else {
            throw ParquetProblem(kind: .corruptStream, reason: "unknown encoding \(raw)")
        }
        switch encoding {
        case .plain:
            try plain(&cursor, count: count, into: &column)
        case .plainDictionary, .rleDictionary:
            guard let dictionary else { throw ParquetProblem(kind: .corruptStream, reason: "dictionary-encoded values without a dictionary page") }
            let width = Int(try cursor.byte())
            guard width <= 32 else { throw ParquetProblem(kind: .corruptStream, reason: "dictionary indices of \(width) bits") }
            var indices: [UInt64] = []
            try Self.hybrid(&cursor, width: width, count: count, into: &indices)
            for index in indices {
                guard index < UInt64(dictionary.ends.count) else {
                    throw ParquetProblem(kind: .corruptStream, reason: "dictionary index \(index) of a dictionary of \(dictionary.ends.count)")
                }
                column.storage.append(contentsOf: dictionary.storage[dictionary.value(Int(index))])
                column.ends.append(column.storage.count)
            }
        case .deltaLengthByteArray where type == .byteArray:
            var lengths: [Int64] = []
            try Self.deltaBinaryPacked(&cursor, count: count, into: &lengths)
            for length in lengths {
                guard length >= 0 else { throw ParquetProblem(kind: .corruptStream, reason: "a negative value length") }
                column.storage.append(contentsOf: try cursor.take(Int(length)))
                column.ends.append(column.storage.count)
            }
        case .deltaByteArray where type == .byteArray:
            var prefixes: [Int64] = []
            var lengths: [Int64] = []
            try Self.deltaBinaryPacked(&cursor, count: count, into: &prefixes)
            try Self.deltaBinaryPacked(&cursor, count: count, into: &lengths)
            var previous: Range<Int> = column.storage.count..<column.storage.count
            for (prefix, length) in zip(prefixes, lengths) {
                guard prefix >= 0, length >= 0, Int(prefix) <= previous.count else {
                    throw ParquetProblem(kind: .corruptStream, reason: "a prefix of \(prefix) bytes after a value of \(previous.count)")
                }
                let start = column.storage.count
                column.storage.append(contentsOf: column.storage[previous.lowerBound..<(previous.lowerBound + Int(prefix))])
                column.storage.append(contentsOf: try cursor.take(Int(length)))
                column.ends.append(column.storage.count)
                previous = start..<column.storage.count
            }
        case .deltaBinaryPacked where type == .int32 || type == .int64:
            var numbers: [Int64] = []
            try Self.deltaBinaryPacked(&cursor, count: count, into: &numbers)
            for number in numbers { appendDecimal(type == .int32 ? Int64(Int32(truncatingIfNeeded: number)) : number, to: &column) }
        default:
            throw ParquetProblem(kind: .corruptStream, reason: "encoding \(encoding) is not supported for \(type) values")
        }
    }

    func plain(_ cursor: inout ByteCursor, count: Int, into column: inout ParquetColumn) throws {
        switch type {
        case .byteArray:
            column.storage.reserveCapacity(column.storage.count + cursor.remaining)
            for _ in 0..<count {
                let length = Int(try cursor.littleEndian(width: 4))
                column.storage.append(contentsOf: try cursor.take(length))
                column.ends.append(column.storage.count)
            }
        case .int32:
            for _ in 0..<count { appendDecimal(Int64(Int32(truncatingIfNeeded: try cursor.littleEndian(width: 4))), to: &column) }
        case .int64:
            for _ in 0..<count { appendDecimal(Int64(bitPattern: try cursor.littleEndian(width: 8)), to: &column) }
        default:
            throw ParquetProblem(kind: .wrongFieldType, reason: "\(type) values are neither strings nor integers")
        }
    }

    func appendDecimal(_ number: Int64, to column: inout ParquetColumn) {
        column.storage.append(contentsOf: String(number).utf8)
        column.ends.append(column.storage.count)
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
        var output = [UInt8](repeating: 0, count: size)
        let produced: Int = try output.withUnsafeMutableBytes { out in
            guard let source = body.baseAddress ?? UnsafeRawPointer(bitPattern: 1), let target = out.baseAddress ?? UnsafeMutableRawPointer(bitPattern: 1) else { return 0 }
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
            default:
                throw ParquetProblem(kind: .corruptStream, reason: "codec \(codec) is not supported (write with snappy, zstd, gzip or lz4_raw)")
            }
        }
        guard produced == size else {
            throw ParquetProblem(kind: .corruptStream, reason: "\(codec): a page of \(produced) bytes that claims \(size)")
        }
        return output
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
