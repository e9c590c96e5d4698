#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A Parquet file read by row groups: the footer once, then for each row group only the column
/// chunks a selector's paths need, one row group in memory at a time.
///
/// Rows are handed out as the same `RecordCaptures` the JSON extractor makes, so a Parquet shard
/// and the same records as JSON lines give the same documents. List columns (`list<struct<role,
/// content>>`, 3-level lists and the legacy 2-level shapes) are assembled from their repetition
/// and definition levels.
final class ParquetFile {
    static let magic: [UInt8] = Array("PAR1".utf8)

    let path: String
    let file: FileSource
    /// The file's size, read once: column chunks are checked against it.
    let size: Int
    let metadata: ParquetMetadata.FileMetaData
    let schema: [SchemaNode]
    /// Bytes of the pages read, decompressed.
    private(set) var uncompressedBytes = 0

    struct SchemaNode {
        var element: ParquetMetadata.SchemaElement
        var children: [Int] = []
    }

    init(path: String, source: FileSource) throws {
        self.path = path
        file = source
        size = try source.size()
        guard size >= 12 else { throw ShardError(shard: path, kind: .truncatedStream, reason: "a Parquet file of \(size) bytes has no footer") }
        let tail = try source.read(at: size - 8, count: 8)
        guard Array(tail[4...]) == Self.magic else {
            throw ShardError(shard: path, kind: .truncatedStream, reason: "the file does not end with PAR1 (truncated, or not Parquet)")
        }
        let footerLength = Int(UInt32(tail[0]) | UInt32(tail[1]) << 8 | UInt32(tail[2]) << 16 | UInt32(tail[3]) << 24)
        guard footerLength <= size - 12 else {
            throw ShardError(shard: path, kind: .corruptStream, reason: "a footer of \(footerLength) bytes in a file of \(size)")
        }
        let footer = try source.read(at: size - 8 - footerLength, count: footerLength)
        do {
            metadata = try footer.withUnsafeBytes { bytes in
                var reader = ThriftCompactReader(bytes)
                return try ParquetMetadata.fileMetaData(&reader)
            }
            schema = try Self.tree(metadata.schema)
        } catch let error as ShardError {
            throw error
        } catch {
            throw ShardError(shard: path, kind: .corruptStream, reason: "corrupt footer: \(error)")
        }
    }

    /// The schema's flat pre-order list as a tree, checked: every child count is honoured.
    static func tree(_ elements: [ParquetMetadata.SchemaElement]) throws -> [SchemaNode] {
        guard !elements.isEmpty else { throw ThriftCompactReader.Malformed(reason: "an empty schema") }
        var nodes = elements.map { SchemaNode(element: $0) }
        var next = 1
        func attach(_ parent: Int, depth: Int) throws {
            guard depth < 64 else { throw ThriftCompactReader.Malformed(reason: "a schema nested deeper than 64") }
            for _ in 0..<nodes[parent].element.childCount {
                guard next < nodes.count else { throw ThriftCompactReader.Malformed(reason: "a schema with fewer elements than its child counts") }
                let child = next
                next += 1
                nodes[parent].children.append(child)
                try attach(child, depth: depth + 1)
            }
        }
        try attach(0, depth: 0)
        guard next == nodes.count else { throw ThriftCompactReader.Malformed(reason: "a schema with more elements than its child counts") }
        return nodes
    }

    /// Where a field path's values are: the leaf column, its levels, and the filter's column.
    struct ResolvedPath {
        var leaf: [String]
        var type: ParquetMetadata.PhysicalType
        var maximumDefinition: Int
        var maximumRepetition: Int
        /// The filter at the path's last array step: its column and accepted values.
        var filter: Filter?
        typealias Filter = (leaf: [String], maximumDefinition: Int, values: [[UInt8]])
    }

    func resolve(_ path: FieldPath) throws(ParquetProblem) -> ResolvedPath? {
        var node = 0
        var names: [String] = []
        var definition = 0
        var repetition = 0
        var filter: ResolvedPath.Filter? = nil
        var steps = path.steps[...]
        func enter(_ child: Int) {
            node = child
            names.append(schema[child].element.name)
            switch schema[child].element.repetition {
            case .optional: definition += 1
            case .repeated: definition += 1; repetition += 1
            case .required: break
            }
        }
        while let step = steps.popFirst() {
            switch step {
            case .key(let name):
                guard let child = schema[node].children.first(where: { schema[$0].element.name == name }) else {
                    // The first key missing is a missing field; a deeper one is a schema mismatch.
                    if node == 0 { return nil }
                    throw ParquetProblem(kind: .missingField, reason: "no field \"\(name)\" in \(names.joined(separator: "."))")
                }
                enter(child)
                if schema[child].element.repetition == .repeated {
                    // A legacy list (a repeated field without a LIST group): the path's [*] is this level.
                    guard case .elements(let step)? = steps.first else {
                        throw ParquetProblem(kind: .wrongFieldType, reason: "\(names.joined(separator: ".")) is repeated: the path needs [*] after it")
                    }
                    steps.removeFirst()
                    filter = try resolveFilter(step, element: child, names: names, definition: definition)
                }
            case .elements(let step):
                let list = schema[node]
                guard list.element.isList, list.children.count == 1, schema[list.children[0]].element.repetition == .repeated else {
                    throw ParquetProblem(kind: .wrongFieldType, reason: "\(names.joined(separator: ".")) is not a list")
                }
                let repeated = list.children[0]
                enter(repeated)
                // Three levels (list / element) unless the repeated group is the element itself,
                // as in the legacy shapes the format's backward-compatibility rules list.
                let inner = schema[repeated]
                if inner.children.count == 1, inner.element.type == nil, inner.element.name != "array",
                   inner.element.name != list.element.name + "_tuple" {
                    enter(inner.children[0])
                }
                filter = try resolveFilter(step, element: node, names: names, definition: definition)
            }
        }
        guard let type = schema[node].element.type, schema[node].children.isEmpty else {
            throw ParquetProblem(kind: .wrongFieldType, reason: "\(names.joined(separator: ".")) is a group, not a string column")
        }
        guard type == .byteArray || type == .int32 || type == .int64 else {
            throw ParquetProblem(kind: .wrongFieldType, reason: "\(names.joined(separator: ".")) holds \(type) values, not strings")
        }
        if let filter, filter.leaf.count != names.count {
            throw ParquetProblem(kind: .wrongFieldType, reason: "a filter on \(filter.leaf.joined(separator: ".")) that is not a sibling of \(names.joined(separator: "."))")
        }
        return ResolvedPath(leaf: names, type: type, maximumDefinition: definition, maximumRepetition: repetition, filter: filter)
    }

    func resolveFilter(_ filter: FieldPath.Filter?, element: Int, names: [String], definition: Int) throws(ParquetProblem) -> ResolvedPath.Filter? {
        guard let filter else { return nil }
        guard let key = schema[element].children.first(where: { schema[$0].element.name == filter.key }),
              schema[key].element.type == .byteArray, schema[key].children.isEmpty else {
            throw ParquetProblem(kind: .missingField, reason: "no string field \"\(filter.key)\" in the elements of \(names.joined(separator: "."))")
        }
        let optional = schema[key].element.repetition == .optional ? 1 : 0
        return (names + [filter.key], definition + optional, filter.values.map { Array($0.utf8) })
    }

    /// One row of the file, as captures of the selector's fields.
    struct Row {
        /// 1-based row number in the file.
        var number: Int
        var rowGroup: Int
        var captures: RecordCaptures
        /// The captured values' bytes (the captures' ranges point here).
        var bytes: [UInt8]
        /// Why the row has no documents (a value that is not UTF-8).
        var problem: ShardError?
    }

    func read(selector: RecordSelector, rowGroups: Range<Int>? = nil, onRow: (Row) throws -> Void) throws {
        var resolved: [ResolvedPath?] = []
        for field in selector.fields {
            do {
                resolved.append(try resolve(field))
            } catch {
                throw ShardError(shard: path, kind: error.kind, reason: "column for \"\(field)\": \(error.reason)")
            }
        }
        for text in 0..<selector.textPaths.count where resolved[text] == nil && selector.fields[text].isScalar {
            throw ShardError(shard: path, kind: .missingField, reason: "no column \"\(selector.fields[text])\" in the file")
        }
        let rootsSeen = selector.nodes[0].keys.map { key in schema[0].children.contains { Array(schema[$0].element.name.utf8) == key } }
        var rowNumber = metadata.rowGroups[..<(rowGroups?.lowerBound ?? 0)].reduce(0) { $0 + Int($1.rowCount) }
        for group in rowGroups ?? metadata.rowGroups.indices {
            let rowGroup = metadata.rowGroups[group]
            var columns: [[String]: ParquetColumn] = [:]
            func column(_ leaf: [String], type: ParquetMetadata.PhysicalType, definition: Int, repetition: Int) throws -> ParquetColumn {
                if let decoded = columns[leaf] { return decoded }
                let decoded = try self.column(leaf, in: rowGroup, number: group, type: type, definition: definition, repetition: repetition)
                columns[leaf] = decoded
                return decoded
            }
            var fieldColumns: [(column: ParquetColumn, filter: ParquetColumn?)?] = []
            for resolved in resolved {
                guard let resolved else { fieldColumns.append(nil); continue }
                let values = try column(resolved.leaf, type: resolved.type, definition: resolved.maximumDefinition, repetition: resolved.maximumRepetition)
                let filter = try resolved.filter.map {
                    try column($0.leaf, type: .byteArray, definition: $0.maximumDefinition, repetition: resolved.maximumRepetition)
                }
                if let filter, filter.definitionLevels.count != values.definitionLevels.count {
                    throw ShardError(shard: path, kind: .corruptStream,
                                     reason: "row group \(group): columns \(resolved.leaf.joined(separator: ".")) and its filter have different entry counts")
                }
                fieldColumns.append((values, filter))
            }
            uncompressedBytes += columns.values.reduce(0) { $0 + $1.uncompressedBytes }
            try assemble(group: group, rowCount: Int(rowGroup.rowCount), firstRow: rowNumber, selector: selector,
                         resolved: resolved, columns: fieldColumns, rootsSeen: rootsSeen, onRow: onRow)
            rowNumber += Int(rowGroup.rowCount)
        }
    }

    /// Reads and decodes one column chunk of a row group.
    func column(_ leaf: [String], in rowGroup: ParquetMetadata.RowGroup, number: Int, type: ParquetMetadata.PhysicalType,
                definition: Int, repetition: Int) throws -> ParquetColumn {
        let name = leaf.joined(separator: ".")
        func fail(_ kind: ShardError.Kind, _ reason: String) -> ShardError {
            ShardError(shard: path, kind: kind, reason: "row group \(number), column \(name): \(reason)")
        }
        guard let chunk = rowGroup.columns.first(where: { $0.path == leaf }) else {
            throw fail(.corruptStream, "the row group has no chunk for the column")
        }
        guard let codec = ParquetMetadata.Codec(rawValue: chunk.codec) else { throw fail(.corruptStream, "unknown codec \(chunk.codec)") }
        let start = min(chunk.dataPageOffset, chunk.dictionaryPageOffset.map { $0 > 0 ? $0 : chunk.dataPageOffset } ?? chunk.dataPageOffset)
        guard start >= 4, chunk.compressedSize >= 0, start + chunk.compressedSize <= Int64(size), chunk.valueCount >= 0 else {
            throw fail(.corruptStream, "a chunk of \(chunk.compressedSize) bytes at \(start) in a file of \(size)")
        }
        let bytes = try file.read(at: Int(start), count: Int(chunk.compressedSize))
        let decoder = ParquetColumnDecoder(type: type, codec: codec, maximumDefinition: definition, maximumRepetition: repetition)
        do {
            return try bytes.withUnsafeBytes { try decoder.decode(chunk: $0, valueCount: Int(chunk.valueCount)) }
        } catch let problem as ParquetProblem {
            throw fail(problem.kind, problem.reason)
        } catch {
            throw fail(.corruptStream, "\(error)")
        }
    }

    func assemble(group: Int, rowCount: Int, firstRow: Int, selector: RecordSelector, resolved: [ResolvedPath?],
                  columns: [(column: ParquetColumn, filter: ParquetColumn?)?], rootsSeen: [Bool], onRow: (Row) throws -> Void) throws {
        // Per field: the next entry and the next value of its column.
        var entry = [Int](repeating: 0, count: columns.count)
        var value = [Int](repeating: 0, count: columns.count)
        var filterValue = [Int](repeating: 0, count: columns.count)
        var row = Row(number: 0, rowGroup: group, captures: RecordCaptures(), bytes: [])
        var indices: [Int] = []
        for rowIndex in 0..<rowCount {
            row.number = firstRow + rowIndex + 1
            row.captures.reset(rootCount: rootsSeen.count)
            row.captures.rootsSeen = rootsSeen
            row.bytes.removeAll(keepingCapacity: true)
            row.problem = nil
            for (field, pair) in columns.enumerated() {
                guard let pair, let path = resolved[field] else { continue }
                let levels = pair.column.definitionLevels
                let repetitions = pair.column.repetitionLevels
                guard entry[field] < levels.count else {
                    throw ShardError(shard: self.path, kind: .corruptStream,
                                     reason: "row group \(group), column \(path.leaf.joined(separator: ".")): the column ends before row \(rowIndex) of \(rowCount)")
                }
                indices.removeAll(keepingCapacity: true)
                indices.append(contentsOf: repeatElement(-1, count: path.maximumRepetition))
                var first = true
                while entry[field] < levels.count {
                    let current = entry[field]
                    let level = path.maximumRepetition > 0 ? Int(repetitions[current]) : 0
                    if level == 0 && !first { break }
                    first = false
                    entry[field] += 1
                    if level > 0 {
                        guard level <= path.maximumRepetition else {
                            throw ShardError(shard: self.path, kind: .corruptStream, reason: "row group \(group): a repetition level above the column's maximum")
                        }
                        indices[level - 1] += 1
                        for deeper in level..<path.maximumRepetition { indices[deeper] = 0 }
                    } else {
                        for deeper in 0..<path.maximumRepetition { indices[deeper] = 0 }
                    }
                    var passes = true
                    if let filterColumn = pair.filter, let filter = path.filter {
                        if filterColumn.definitionLevels[current] == UInt64(filter.maximumDefinition) {
                            passes = filterColumn.withValue(filterValue[field]) { bytes in filter.values.contains { $0.elementsEqual(bytes) } }
                            filterValue[field] += 1
                        } else {
                            passes = false
                        }
                    }
                    guard levels[current] == UInt64(path.maximumDefinition) else {
                        if path.maximumRepetition == 0 { row.captures.append(field: field, elementIndices: [], value: .null) }
                        continue
                    }
                    let index = value[field]
                    value[field] += 1
                    guard passes else { continue }
                    let from = row.bytes.count
                    pair.column.withValue(index) { row.bytes.append(contentsOf: $0) }
                    let captured = from..<row.bytes.count
                    if !pair.column.isNumeric, row.problem == nil, !UTF8Validation.isValid(row.bytes[captured]) {
                        row.problem = ShardError(shard: self.path, line: row.number, kind: .invalidUTF8,
                                                 reason: "row group \(group), column \(path.leaf.joined(separator: ".")): a value that is not UTF-8")
                    }
                    row.captures.append(field: field, elementIndices: indices[...],
                                        value: pair.column.isNumeric ? .number(captured) : .string(captured))
                }
            }
            try onRow(row)
        }
    }
}
