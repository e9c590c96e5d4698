import CEchoScanShims
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Extracts the fields a `RecordSelector` names from one JSON object line, straight from its
/// UTF-8 bytes.
///
/// The whole line is validated (grammar, UTF-8, nesting depth) but no dictionary is built: the
/// selector's tree of keys is walked along the line, wanted strings are unescaped into a
/// caller-owned buffer, everything else is skipped. Escapes are all handled, `\uXXXX` surrogate
/// pairs included; a lone surrogate becomes U+FFFD.
public struct JSONFieldExtractor: Sendable {
    /// What a wanted field held.
    public enum Value: Equatable, Sendable {
        case absent
        /// A string, unescaped into the output buffer at this range.
        case string(Range<Int>)
        /// A number, its literal bytes copied into the output buffer at this range.
        case number(Range<Int>)
        case null
        /// An object, array or boolean.
        case other
    }

    /// A malformed line: the reader adds shard and line number.
    public struct Problem: Error, Sendable {
        public var kind: ShardError.Kind
        public var reason: String
    }

    public let selector: RecordSelector
    static let maximumDepth = 256

    public init(selector: RecordSelector) {
        self.selector = selector
    }

    /// Parses `line`, appending the wanted strings to `output` and recording where in `captures`.
    public func extract(_ line: UnsafeRawBufferPointer, into output: inout [UInt8], captures: inout RecordCaptures) throws(Problem) {
        captures.reset(rootCount: selector.nodes[0].keys.count)
        guard let base = line.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            throw Problem(kind: .invalidJSON, reason: "empty line")
        }
        var parser = Parser(start: base, end: base + line.count)
        try parser.parseTopLevel(selector: selector, output: &output, captures: &captures)
    }

    struct Parser {
        let start: UnsafePointer<UInt8>
        let end: UnsafePointer<UInt8>
        var cursor: UnsafePointer<UInt8>
        var keyScratch: [UInt8] = []
        /// The element numbers of the arrays the walk is inside.
        var elementPath: [Int] = []
        /// Strings that filters read in the elements being walked: (element node, key, bytes).
        var filterValues: [(node: Int, key: Int, range: Range<Int>)] = []
        var filterScratch: [UInt8] = []

        init(start: UnsafePointer<UInt8>, end: UnsafePointer<UInt8>) {
            self.start = start
            self.end = end
            cursor = start
        }

        var column: Int { cursor - start + 1 }

        func fail(_ what: String, kind: ShardError.Kind = .invalidJSON) -> Problem {
            Problem(kind: kind, reason: "\(what) at column \(column)")
        }

        mutating func skipWhitespace() {
            while cursor < end {
                switch cursor.pointee {
                case 0x20, 0x09, 0x0A, 0x0D: cursor += 1
                default: return
                }
            }
        }

        mutating func expect(_ byte: UInt8, _ what: String) throws(Problem) {
            guard cursor < end, cursor.pointee == byte else {
                throw fail(cursor < end ? "expected \(what), found \(describe(cursor.pointee))" : "expected \(what), found end of line")
            }
            cursor += 1
        }

        func describe(_ byte: UInt8) -> String {
            if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
            return "byte 0x" + byteHex(byte)
        }

        mutating func parseTopLevel(selector: RecordSelector, output: inout [UInt8], captures: inout RecordCaptures) throws(Problem) {
            skipWhitespace()
            guard cursor < end, cursor.pointee == UInt8(ascii: "{") else {
                try expect(UInt8(ascii: "{"), "'{' (each line must be one JSON object)")
                return
            }
            try walkObject(node: 0, depth: 1, selector: selector, output: &output, captures: &captures)
            skipWhitespace()
            if cursor < end { throw fail("unexpected \(describe(cursor.pointee)) after the object") }
        }

        /// Walks the object at the cursor, descending into the keys `node` wants.
        mutating func walkObject(node index: Int, depth: Int, selector: RecordSelector, output: inout [UInt8],
                                 captures: inout RecordCaptures) throws(Problem) {
            let node = selector.nodes[index]
            cursor += 1 // '{'
            skipWhitespace()
            if cursor < end, cursor.pointee == UInt8(ascii: "}") { cursor += 1; return }
            while true {
                skipWhitespace()
                guard cursor < end, cursor.pointee == UInt8(ascii: "\"") else { throw fail("expected a key string") }
                let wanted = try parseKey(among: node.keys)
                skipWhitespace()
                try expect(UInt8(ascii: ":"), "':'")
                skipWhitespace()
                if let wanted {
                    if index == 0 { captures.rootsSeen[wanted] = true }
                    let child = node.children[wanted]
                    var consumed = false
                    if !node.filters.isEmpty, node.filterKeys.contains(wanted), cursor < end, cursor.pointee == UInt8(ascii: "\"") {
                        // A filter's key: its string is kept for the element's end, and read
                        // again below if a path also selects it.
                        let quote = cursor
                        var scratch = filterScratch
                        filterScratch = []
                        let from = scratch.count
                        defer { filterScratch = scratch }
                        try parseString(into: &scratch)
                        filterValues.append((index, wanted, from..<scratch.count))
                        if child >= 0 { cursor = quote } else { consumed = true }
                    }
                    if child >= 0 {
                        try walkValue(node: child, depth: depth + 1, selector: selector, output: &output, captures: &captures)
                    } else if !consumed {
                        try skipValue(depth: depth + 1)
                    }
                } else {
                    try skipValue(depth: depth + 1)
                }
                skipWhitespace()
                guard cursor < end else { throw fail("unterminated object") }
                if cursor.pointee == UInt8(ascii: ",") { cursor += 1; continue }
                try expect(UInt8(ascii: "}"), "',' or '}'")
                return
            }
        }

        /// Walks one value: captures it for the fields that end at `node`, or descends.
        mutating func walkValue(node index: Int, depth: Int, selector: RecordSelector, output: inout [UInt8],
                                captures: inout RecordCaptures) throws(Problem) {
            guard depth <= JSONFieldExtractor.maximumDepth else { throw fail("nesting deeper than \(JSONFieldExtractor.maximumDepth)") }
            guard cursor < end else { throw fail("expected a value") }
            let node = selector.nodes[index]
            let value: Value
            switch cursor.pointee {
            case UInt8(ascii: "\""):
                guard !node.terminals.isEmpty else { try skipString(); return }
                let from = output.count
                try parseString(into: &output)
                value = .string(from..<output.count)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                let literalStart = cursor
                try skipNumber()
                guard !node.terminals.isEmpty else { return }
                let from = output.count
                output.append(contentsOf: UnsafeBufferPointer(start: literalStart, count: cursor - literalStart))
                value = .number(from..<output.count)
            case UInt8(ascii: "{") where !node.keys.isEmpty:
                try walkObject(node: index, depth: depth, selector: selector, output: &output, captures: &captures)
                value = .other
            case UInt8(ascii: "[") where node.elements != nil:
                try walkArray(node: node.elements ?? 0, depth: depth, selector: selector, output: &output, captures: &captures)
                value = .other
            case UInt8(ascii: "n"):
                try skipValue(depth: depth)
                value = .null
            default:
                try skipValue(depth: depth)
                value = .other
            }
            for field in node.terminals {
                // A scalar field takes the first occurrence of a duplicated key.
                if selector.fields[field].isScalar, captures.items.contains(where: { $0.field == field }) { continue }
                captures.append(field: field, elementIndices: elementPath[...], value: value)
            }
        }

        /// Walks the array at the cursor; after each element, drops what it captured for a field
        /// whose filter at this step the element failed.
        mutating func walkArray(node index: Int, depth: Int, selector: RecordSelector, output: inout [UInt8],
                                captures: inout RecordCaptures) throws(Problem) {
            let node = selector.nodes[index]
            cursor += 1 // '['
            skipWhitespace()
            if cursor < end, cursor.pointee == UInt8(ascii: "]") { cursor += 1; return }
            var element = 0
            while true {
                skipWhitespace()
                elementPath.append(element)
                let captureMark = captures.items.count
                let filterMark = filterValues.count
                try walkValue(node: index, depth: depth + 1, selector: selector, output: &output, captures: &captures)
                if !node.filters.isEmpty {
                    var kept = captureMark
                    for position in captureMark..<captures.items.count {
                        let capture = captures.items[position]
                        if passes(capture.field, filters: node.filters, node: index, from: filterMark) {
                            captures.items[kept] = capture
                            kept += 1
                        }
                    }
                    captures.items.removeSubrange(kept...)
                }
                filterValues.removeSubrange(filterMark...)
                elementPath.removeLast()
                element += 1
                skipWhitespace()
                guard cursor < end else { throw fail("unterminated array") }
                if cursor.pointee == UInt8(ascii: ",") { cursor += 1; continue }
                try expect(UInt8(ascii: "]"), "',' or ']'")
                return
            }
        }

        func passes(_ field: Int, filters: [(field: Int, key: Int, values: [[UInt8]])], node: Int, from mark: Int) -> Bool {
            guard let filter = filters.first(where: { $0.field == field }) else { return true }
            guard let found = filterValues[mark...].first(where: { $0.node == node && $0.key == filter.key }) else { return false }
            let bytes = filterScratch[found.range]
            return filter.values.contains { $0.elementsEqual(bytes) }
        }

        /// Reads the key string at the cursor and returns which of `keys` it is. A key without
        /// escapes (nearly all) is compared where it lies; only one with escapes is unescaped
        /// (`parseString` would copy the rest of the line for each key).
        mutating func parseKey(among keys: [[UInt8]]) throws(Problem) -> Int? {
            let quote = cursor
            let length = try scanString(into: nil)
            let raw = UnsafeBufferPointer(start: quote + 1, count: cursor - quote - 2)
            if length == raw.count { return keys.firstIndex { $0.elementsEqual(raw) } }
            cursor = quote
            keyScratch.removeAll(keepingCapacity: true)
            var scratch = keyScratch
            try parseString(into: &scratch)
            keyScratch = scratch
            return keys.firstIndex(of: keyScratch)
        }

        mutating func skipValue(depth: Int) throws(Problem) {
            guard depth <= JSONFieldExtractor.maximumDepth else { throw fail("nesting deeper than \(JSONFieldExtractor.maximumDepth)") }
            guard cursor < end else { throw fail("expected a value, found end of line") }
            switch cursor.pointee {
            case UInt8(ascii: "\""):
                try skipString()
            case UInt8(ascii: "{"):
                cursor += 1
                skipWhitespace()
                if cursor < end, cursor.pointee == UInt8(ascii: "}") { cursor += 1; return }
                while true {
                    skipWhitespace()
                    guard cursor < end, cursor.pointee == UInt8(ascii: "\"") else { throw fail("expected a key string") }
                    try skipString()
                    skipWhitespace()
                    try expect(UInt8(ascii: ":"), "':'")
                    skipWhitespace()
                    try skipValue(depth: depth + 1)
                    skipWhitespace()
                    guard cursor < end else { throw fail("unterminated object") }
                    if cursor.pointee == UInt8(ascii: ",") { cursor += 1; continue }
                    try expect(UInt8(ascii: "}"), "',' or '}'")
                    return
                }
            case UInt8(ascii: "["):
                cursor += 1
                skipWhitespace()
                if cursor < end, cursor.pointee == UInt8(ascii: "]") { cursor += 1; return }
                while true {
                    skipWhitespace()
                    try skipValue(depth: depth + 1)
                    skipWhitespace()
                    guard cursor < end else { throw fail("unterminated array") }
                    if cursor.pointee == UInt8(ascii: ",") { cursor += 1; continue }
                    try expect(UInt8(ascii: "]"), "',' or ']'")
                    return
                }
            case UInt8(ascii: "t"): try skipLiteral("true")
            case UInt8(ascii: "f"): try skipLiteral("false")
            case UInt8(ascii: "n"): try skipLiteral("null")
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try skipNumber()
            default: throw fail("unexpected \(describe(cursor.pointee))")
            }
        }

        mutating func skipLiteral(_ literal: StaticString) throws(Problem) {
            let count = literal.utf8CodeUnitCount
            guard end - cursor >= count, memcmp(cursor, literal.utf8Start, count) == 0 else {
                throw fail("invalid literal (expected \(literal))")
            }
            cursor += count
        }

        mutating func skipDigits() -> Int {
            let from = cursor
            while cursor < end, cursor.pointee &- UInt8(ascii: "0") < 10 { cursor += 1 }
            return cursor - from
        }

        mutating func skipNumber() throws(Problem) {
            if cursor.pointee == UInt8(ascii: "-") { cursor += 1 }
            guard cursor < end else { throw fail("invalid number") }
            if cursor.pointee == UInt8(ascii: "0") {
                cursor += 1
            } else if skipDigits() == 0 {
                throw fail("invalid number")
            }
            if cursor < end, cursor.pointee == UInt8(ascii: ".") {
                cursor += 1
                guard skipDigits() > 0 else { throw fail("invalid number: no digits after '.'") }
            }
            if cursor < end, cursor.pointee | 0x20 == UInt8(ascii: "e") {
                cursor += 1
                if cursor < end, cursor.pointee == UInt8(ascii: "+") || cursor.pointee == UInt8(ascii: "-") { cursor += 1 }
                guard skipDigits() > 0 else { throw fail("invalid number: no exponent digits") }
            }
        }

        mutating func skipString() throws(Problem) {
            _ = try scanString(into: nil)
        }

        /// Appends the unescaped string that starts at the cursor to `output`.
        mutating func parseString(into output: inout [UInt8]) throws(Problem) {
            let from = output.count
            // Room for the longest outcome: unescaping never lengthens a string, so the rest of
            // the line is enough. Copying it in (one memcpy) is the cheapest way to grow an array.
            // On a long line the string is measured first, so that a short value before a long
            // text does not take the whole line's room: its raw length, plus the 16 bytes that
            // the scan's last whole-block copy may write past the closing quote.
            var room = end - cursor
            if room > Self.measuredStringRoom {
                let quote = cursor
                _ = try scanString(into: nil)
                room = min(room, cursor - quote + 16)
                cursor = quote
            }
            output.append(contentsOf: UnsafeBufferPointer(start: cursor, count: room))
            var written = 0
            try output.withUnsafeMutableBufferPointer { buffer throws(Problem) in
                written = try scanString(into: buffer.baseAddress.map { $0 + from })
            }
            output.removeSubrange((from + written)...)
        }

        /// Beyond this much of a line left, a string is measured before it is copied.
        static let measuredStringRoom = 1 << 16

        /// Walks a string from its opening quote, validating escapes and UTF-8. When `destination`
        /// is given (with room for the rest of the line), writes the unescaped bytes there and
        /// returns their count.
        @inline(__always)
        mutating func scanString(into destination: UnsafeMutablePointer<UInt8>?) throws(Problem) -> Int {
            cursor += 1 // opening quote
            var written = 0
            while true {
                // Sixteen bytes at a time, copied whole (the destination never runs ahead of the
                // source, so it has room) and kept up to the first byte that needs a look.
                var stops: UInt32 = 0
                while end - cursor >= 16 {
                    destination.map { UnsafeMutableRawPointer($0 + written).copyMemory(from: cursor, byteCount: 16) }
                    stops = echoscan_json_string_stops16(cursor)
                    if stops != 0 { break }
                    cursor += 16
                    written += 16
                }
                if stops != 0 {
                    let run = stops.trailingZeroBitCount
                    cursor += run
                    written += run
                } else {
                    // The line's last bytes, one at a time.
                    while cursor < end {
                        let byte = cursor.pointee
                        if byte == 0x22 || byte == 0x5C || byte < 0x20 || byte >= 0x80 { break }
                        destination?[written] = byte
                        cursor += 1
                        written += 1
                    }
                    guard cursor < end else { throw fail("unterminated string") }
                }
                let byte = cursor.pointee
                if byte == 0x22 {
                    cursor += 1
                    return written
                }
                if byte >= 0x80 {
                    let sequence = cursor
                    try skipUTF8Sequence()
                    destination.map { ($0 + written).update(from: sequence, count: cursor - sequence) }
                    written += cursor - sequence
                    continue
                }
                if byte < 0x20 {
                    throw fail("control byte 0x\(byteHex(byte)) inside a string (must be escaped)")
                }
                written += try unescape(into: destination.map { $0 + written })
            }
        }

        /// Reads the escape at the cursor; writes what it stands for to `destination` when given,
        /// and returns how many bytes that is.
        mutating func unescape(into destination: UnsafeMutablePointer<UInt8>?) throws(Problem) -> Int {
            cursor += 1 // backslash
            guard cursor < end else { throw fail("unterminated escape") }
            let escaped = cursor.pointee
            cursor += 1
            let simple: UInt8
            switch escaped {
            case UInt8(ascii: "\""): simple = 0x22
            case UInt8(ascii: "\\"): simple = 0x5C
            case UInt8(ascii: "/"): simple = 0x2F
            case UInt8(ascii: "b"): simple = 0x08
            case UInt8(ascii: "f"): simple = 0x0C
            case UInt8(ascii: "n"): simple = 0x0A
            case UInt8(ascii: "r"): simple = 0x0D
            case UInt8(ascii: "t"): simple = 0x09
            case UInt8(ascii: "u"):
                var scalar = try readHex4()
                if scalar >= 0xD800 && scalar < 0xDC00 {
                    // A high surrogate: a low one must follow as another \u escape.
                    if end - cursor >= 6, cursor[0] == 0x5C, cursor[1] == UInt8(ascii: "u") {
                        let save = cursor
                        cursor += 2
                        let low = try readHex4()
                        if low >= 0xDC00 && low < 0xE000 {
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            cursor = save
                            scalar = 0xFFFD
                        }
                    } else {
                        scalar = 0xFFFD
                    }
                } else if scalar >= 0xDC00 && scalar < 0xE000 {
                    scalar = 0xFFFD
                }
                // At most four bytes for at least six read: the destination has room.
                let (encoded, count) = utf8Encoded(scalar)
                if let destination {
                    for index in 0..<count { destination[index] = UInt8(truncatingIfNeeded: encoded >> (8 * index)) }
                }
                return count
            default:
                cursor -= 1
                throw fail("invalid escape \\\(describe(escaped))")
            }
            destination?.pointee = simple
            return 1
        }

        mutating func readHex4() throws(Problem) -> UInt32 {
            guard end - cursor >= 4 else { throw fail("truncated \\u escape") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = cursor.pointee
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw fail("invalid hex digit in \\u escape")
                }
                value = value << 4 | UInt32(digit)
                cursor += 1
            }
            return value
        }

        /// Validates one multi-byte UTF-8 sequence (no overlongs, no surrogates, at most U+10FFFF).
        mutating func skipUTF8Sequence() throws(Problem) {
            switch UTF8Validation.sequence(at: cursor, available: end - cursor) {
            case .valid(let length): cursor += length
            case .invalidLead(let lead): throw fail("invalid UTF-8 lead byte 0x\(byteHex(lead))", kind: .invalidUTF8)
            case .truncated: throw fail("truncated UTF-8 sequence", kind: .invalidUTF8)
            case .invalidContinuation(let byte): throw fail("invalid UTF-8 continuation byte 0x\(byteHex(byte))", kind: .invalidUTF8)
            }
        }
    }
}

/// The UTF-8 bytes of `scalar`, in order from the lowest byte of the result, and their count.
func utf8Encoded(_ scalar: UInt32) -> (bytes: UInt32, count: Int) {
    switch scalar {
    case 0..<0x80:
        return (scalar, 1)
    case 0x80..<0x800:
        return ((0xC0 | scalar >> 6) | (0x80 | scalar & 0x3F) << 8, 2)
    case 0x800..<0x10000:
        return ((0xE0 | scalar >> 12) | (0x80 | (scalar >> 6) & 0x3F) << 8 | (0x80 | scalar & 0x3F) << 16, 3)
    default:
        return ((0xF0 | scalar >> 18) | (0x80 | (scalar >> 12) & 0x3F) << 8 | (0x80 | (scalar >> 6) & 0x3F) << 16
                    | (0x80 | scalar & 0x3F) << 24, 4)
    }
}
