/// Reads Thrift's compact protocol, the encoding of Parquet's footer and page headers.
///
/// Only what Parquet uses: structs of integers, binaries, booleans, lists and nested structs.
/// Every read is bounds-checked; fields a decoder does not know are skipped, so files from newer
/// writers still read. Nesting is limited, so a crafted footer cannot recurse without end.
struct ThriftCompactReader {
    enum FieldType: UInt8 {
        case booleanTrue = 1, booleanFalse = 2, byte = 3, i16 = 4, i32 = 5, i64 = 6, double = 7
        case binary = 8, list = 9, set = 10, map = 11, structure = 12
    }

    struct Malformed: Error, CustomStringConvertible {
        var reason: String
        var description: String { reason }
    }

    private var cursor: ByteCursor
    private var lastFieldIDs: [Int16] = []
    static let maximumDepth = 64

    init(_ bytes: UnsafeRawBufferPointer) {
        cursor = ByteCursor(bytes)
    }

    var position: Int { cursor.position }
    private var remaining: Int { cursor.remaining }

    func fail(_ reason: String) -> Malformed {
        Malformed(reason: "\(reason) at metadata byte \(position)")
    }

    /// The cursor's reads, their out-of-bounds errors as malformed metadata.
    private mutating func read<T>(_ body: (inout ByteCursor) throws -> T) throws -> T {
        do { return try body(&cursor) } catch { throw fail("\(error)") }
    }

    mutating func byte() throws -> UInt8 { try read { try $0.byte() } }
    mutating func varint() throws -> UInt64 { try read { try $0.varint() } }
    mutating func zigzag() throws -> Int64 { try read { try $0.zigzag() } }

    mutating func i32() throws -> Int32 {
        let value = try zigzag()
        guard let narrowed = Int32(exactly: value) else { throw fail("an i32 out of range") }
        return narrowed
    }

    mutating func i64() throws -> Int64 { try zigzag() }

    /// A binary's bytes.
    mutating func binary() throws -> UnsafeRawBufferPointer {
        let length = try varint()
        guard length <= UInt64(remaining) else { throw fail("a binary of \(length) bytes past the end") }
        return try read { try $0.take(Int(length)) }
    }

    mutating func string() throws -> String {
        String(decoding: try binary(), as: UTF8.self)
    }

    /// Calls `body` with each field's id and type until the struct's stop byte. A boolean field's
    /// value is in its type (`booleanTrue`/`booleanFalse`); `body` must read or `skip` the value.
    mutating func readStruct(_ body: (inout ThriftCompactReader, Int16, FieldType) throws -> Void) throws {
        guard lastFieldIDs.count < Self.maximumDepth else { throw fail("structs nested deeper than \(Self.maximumDepth)") }
        lastFieldIDs.append(0)
        defer { lastFieldIDs.removeLast() }
        while true {
            let header = try byte()
            if header == 0 { return }
            guard let type = FieldType(rawValue: header & 0x0F) else { throw fail("unknown field type \(header & 0x0F)") }
            let delta = Int16(header >> 4)
            let id: Int16
            if delta != 0 {
                id = (lastFieldIDs.last ?? 0) &+ delta
            } else {
                let value = try zigzag()
                guard let narrowed = Int16(exactly: value) else { throw fail("a field id out of range") }
                id = narrowed
            }
            lastFieldIDs[lastFieldIDs.count - 1] = id
            try body(&self, id, type)
        }
    }

    /// A list's element type and count; the caller reads the elements.
    mutating func listHeader() throws -> (FieldType, Int) {
        let header = try byte()
        var count = UInt64(header >> 4)
        if count == 15 { count = try varint() }
        guard let type = FieldType(rawValue: header & 0x0F) ?? (header & 0x0F == 0 && count == 0 ? .byte : nil) else {
            throw fail("unknown list element type \(header & 0x0F)")
        }
        // Every element takes at least one byte: a larger count is a crafted footer.
        guard count <= UInt64(remaining) else { throw fail("a list of \(count) elements past the end") }
        return (type, Int(count))
    }

    mutating func list<Element>(_ element: (inout ThriftCompactReader) throws -> Element) throws -> [Element] {
        let (_, count) = try listHeader()
        var elements: [Element] = []
        elements.reserveCapacity(count)
        for _ in 0..<count { elements.append(try element(&self)) }
        return elements
    }

    mutating func bool(_ type: FieldType) throws -> Bool {
        switch type {
        case .booleanTrue: return true
        case .booleanFalse: return false
        default: throw fail("expected a boolean")
        }
    }

    mutating func skip(_ type: FieldType, depth: Int = 0) throws {
        guard depth < Self.maximumDepth else { throw fail("values nested deeper than \(Self.maximumDepth)") }
        switch type {
        case .booleanTrue, .booleanFalse: return
        case .byte: _ = try byte()
        case .i16, .i32, .i64: _ = try varint()
        case .double: _ = try read { try $0.take(8) }
        case .binary: _ = try binary()
        case .list, .set:
            let (element, count) = try listHeader()
            for _ in 0..<count {
                // Booleans in a list take a byte each.
                if element == .booleanTrue || element == .booleanFalse { _ = try byte() } else { try skip(element, depth: depth + 1) }
            }
        case .map:
            let count = try varint()
            guard count > 0 else { return }
            let types = try byte()
            guard count <= UInt64(remaining),
                  let key = FieldType(rawValue: types >> 4), let value = FieldType(rawValue: types & 0x0F) else {
                throw fail("a malformed map")
            }
            for _ in 0..<count {
                try skip(key, depth: depth + 1)
                try skip(value, depth: depth + 1)
            }
        case .structure:
            try readStruct { reader, _, type in try reader.skip(type, depth: depth + 1) }
        }
    }
}
