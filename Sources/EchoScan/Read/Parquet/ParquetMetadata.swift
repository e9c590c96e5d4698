/// The parts of a Parquet footer (`FileMetaData` in apache/parquet-format's parquet.thrift) and
/// page headers that a reader of text columns needs, decoded from Thrift's compact protocol.
enum ParquetMetadata {
    enum PhysicalType: Int32 {
        case boolean = 0, int32 = 1, int64 = 2, int96 = 3, float = 4, double = 5, byteArray = 6, fixedLengthByteArray = 7
    }

    enum Repetition: Int32 {
        case required = 0, optional = 1, repeated = 2
    }

    enum Codec: Int32 {
        case uncompressed = 0, snappy = 1, gzip = 2, lzo = 3, brotli = 4, lz4 = 5, zstd = 6, lz4Raw = 7
    }

    enum Encoding: Int32 {
        case plain = 0, plainDictionary = 2, rle = 3, bitPacked = 4, deltaBinaryPacked = 5
        case deltaLengthByteArray = 6, deltaByteArray = 7, rleDictionary = 8, byteStreamSplit = 9
    }

    struct SchemaElement {
        var name = ""
        var type: PhysicalType?
        var repetition: Repetition = .required
        var childCount = 0
        /// ConvertedType LIST (3) or the LIST logical type: a list wrapper group.
        var isList = false
    }

    struct ColumnChunk {
        var path: [String] = []
        var type: PhysicalType?
        var codec: Int32 = 0
        var valueCount: Int64 = 0
        var compressedSize: Int64 = 0
        var dataPageOffset: Int64 = 0
        var dictionaryPageOffset: Int64?
    }

    struct RowGroup {
        var columns: [ColumnChunk] = []
        var totalBytes: Int64 = 0
        var rowCount: Int64 = 0
    }

    struct FileMetaData {
        var schema: [SchemaElement] = []
        var rowCount: Int64 = 0
        var rowGroups: [RowGroup] = []
        var createdBy: String?
    }

    enum PageType: Int32 {
        case data = 0, index = 1, dictionary = 2, dataV2 = 3
    }

    struct PageHeader {
        var type: Int32 = -1
        var uncompressedSize: Int32 = 0
        var compressedSize: Int32 = 0
        var valueCount: Int32 = 0
        var encoding: Int32 = 0
        var definitionEncoding: Int32 = Encoding.rle.rawValue
        var repetitionEncoding: Int32 = Encoding.rle.rawValue
        // Data page v2
        var definitionBytes: Int32 = 0
        var repetitionBytes: Int32 = 0
        var isCompressed = true
    }

    static func fileMetaData(_ reader: inout ThriftCompactReader) throws -> FileMetaData {
        var metadata = FileMetaData()
        try reader.readStruct { reader, id, type in
            switch (id, type) {
            case (2, .list): metadata.schema = try reader.list(schemaElement)
            case (3, .i64): metadata.rowCount = try reader.i64()
            case (4, .list): metadata.rowGroups = try reader.list(rowGroup)
            case (6, .binary): metadata.createdBy = try reader.string()
            default: try reader.skip(type)
            }
        }
        return metadata
    }

    static func schemaElement(_ reader: inout ThriftCompactReader) throws -> SchemaElement {
        var element = SchemaElement()
        try reader.readStruct { reader, id, type in
            switch (id, type) {
            case (1, .i32): element.type = PhysicalType(rawValue: try reader.i32())
            case (3, .i32):
                let raw = try reader.i32()
                guard let repetition = Repetition(rawValue: raw) else { throw reader.fail("unknown repetition \(raw)") }
                element.repetition = repetition
            case (4, .binary): element.name = try reader.string()
            case (5, .i32):
                let count = try reader.i32()
                guard count >= 0 else { throw reader.fail("a negative child count") }
                element.childCount = Int(count)
            case (6, .i32): if try reader.i32() == 3 { element.isList = true }
            case (10, .structure):
                // LogicalType is a union: field 3 is LIST.
                try reader.readStruct { reader, id, type in
                    if id == 3 { element.isList = true }
                    try reader.skip(type)
                }
            default: try reader.skip(type)
            }
        }
        return element
    }

    static func rowGroup(_ reader: inout ThriftCompactReader) throws -> RowGroup {
        var group = RowGroup()
        try reader.readStruct { reader, id, type in
            switch (id, type) {
            case (1, .list): group.columns = try reader.list(columnChunk)
            case (2, .i64): group.totalBytes = try reader.i64()
            case (3, .i64): group.rowCount = try reader.i64()
            default: try reader.skip(type)
            }
        }
        return group
    }

    static func columnChunk(_ reader: inout ThriftCompactReader) throws -> ColumnChunk {
        var chunk = ColumnChunk()
        try reader.readStruct { reader, id, type in
            switch (id, type) {
            case (1, .binary):
                _ = try reader.binary()
                throw reader.fail("a column chunk in another file (file_path) is not supported")
            case (3, .structure):
                try reader.readStruct { reader, id, type in
                    switch (id, type) {
                    case (1, .i32): chunk.type = PhysicalType(rawValue: try reader.i32())
                    case (3, .list): chunk.path = try reader.list { try $0.string() }
                    case (4, .i32): chunk.codec = try reader.i32()
                    case (5, .i64): chunk.valueCount = try reader.i64()
                    case (7, .i64): chunk.compressedSize = try reader.i64()
                    case (9, .i64): chunk.dataPageOffset = try reader.i64()
                    case (11, .i64): chunk.dictionaryPageOffset = try reader.i64()
                    default: try reader.skip(type)
                    }
                }
            default: try reader.skip(type)
            }
        }
        return chunk
    }

    static func pageHeader(_ reader: inout ThriftCompactReader) throws -> PageHeader {
        var header = PageHeader()
        try reader.readStruct { reader, id, type in
            switch (id, type) {
            case (1, .i32): header.type = try reader.i32()
            case (2, .i32): header.uncompressedSize = try reader.i32()
            case (3, .i32): header.compressedSize = try reader.i32()
            case (5, .structure):
                try reader.readStruct { reader, id, type in
                    switch (id, type) {
                    case (1, .i32): header.valueCount = try reader.i32()
                    case (2, .i32): header.encoding = try reader.i32()
                    case (3, .i32): header.definitionEncoding = try reader.i32()
                    case (4, .i32): header.repetitionEncoding = try reader.i32()
                    default: try reader.skip(type)
                    }
                }
            case (7, .structure):
                try reader.readStruct { reader, id, type in
                    switch (id, type) {
                    case (1, .i32): header.valueCount = try reader.i32()
                    case (2, .i32): header.encoding = try reader.i32()
                    default: try reader.skip(type)
                    }
                }
            case (8, .structure):
                try reader.readStruct { reader, id, type in
                    switch (id, type) {
                    case (1, .i32): header.valueCount = try reader.i32()
                    case (4, .i32): header.encoding = try reader.i32()
                    case (5, .i32): header.definitionBytes = try reader.i32()
                    case (6, .i32): header.repetitionBytes = try reader.i32()
                    case (7, .booleanTrue), (7, .booleanFalse): header.isCompressed = try reader.bool(type)
                    default: try reader.skip(type)
                    }
                }
            default: try reader.skip(type)
            }
        }
        guard header.compressedSize >= 0, header.uncompressedSize >= 0, header.valueCount >= 0,
              header.definitionBytes >= 0, header.repetitionBytes >= 0 else {
            throw reader.fail("a page header with a negative size or count")
        }
        return header
    }
}
