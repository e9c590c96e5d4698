import CEchoScanShims
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Extracts a few top-level fields from one JSON object line, straight from its UTF-8 bytes.
///
/// The whole line is validated (grammar, UTF-8, nesting depth) but no dictionary is built: wanted
/// string values are unescaped into a caller-owned buffer, everything else is skipped. Escapes are
/// all handled, `\uXXXX` surrogate pairs included; a lone surrogate becomes U+FFFD.
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

    public let keys: [[UInt8]]
    static let maximumDepth = 256

    public init(keys: [String]) {
        self.keys = keys.map { Array($0.utf8) }
    }

    /// Parses `line` and fills `values` (one per key) with what each wanted field held.
    public func extract(_ line: UnsafeRawBufferPointer, into output: inout [UInt8], values: inout [Value]) throws(Problem) {
        values.removeAll(keepingCapacity: true)
        values.append(contentsOf: repeatElement(.absent, count: keys.count))
        guard let base = line.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            throw Problem(kind: .invalidJSON, reason: "empty line")
        }
        var parser = Parser(start: base, end: base + line.count)
        try parser.parseTopLevel(keys: keys, output: &output, values: &values)
    }

    struct Parser {
        let start: UnsafePointer<UInt8>
        let end: UnsafePointer<UInt8>
        var cursor: UnsafePointer<UInt8>
        var keyScratch: [UInt8] = []

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

        mutating func parseTopLevel(keys: [[UInt8]], output: inout [UInt8], values: inout [Value]) throws(Problem) {
            skipWhitespace()
            try expect(UInt8(ascii: "{"), "'{' (each line must be one JSON object)")
            skipWhitespace()
            if cursor < end, cursor.pointee == UInt8(ascii: "}") {
                cursor += 1
            } else {
                while true {
                    skipWhitespace()
                    guard cursor < end, cursor.pointee == UInt8(ascii: "\"") else { throw fail("expected a key string") }
                    let wanted = try parseKey(among: keys)
                    skipWhitespace()
                    try expect(UInt8(ascii: ":"), "':'")
                    skipWhitespace()
                    if let wanted, values[wanted] == .absent {
                        values[wanted] = try parseWantedValue(output: &output)
                    } else {
                        try skipValue(depth: 1)
                    }
                    skipWhitespace()
                    guard cursor < end else { throw fail("unterminated object") }
                    if cursor.pointee == UInt8(ascii: ",") { cursor += 1; continue }
                    try expect(UInt8(ascii: "}"), "',' or '}'")
                    break
                }
            }
            skipWhitespace()
            if cursor < end { throw fail("unexpected \(describe(cursor.pointee)) after the object") }
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

        mutating func parseWantedValue(output: inout [UInt8]) throws(Problem) -> Value {
            guard cursor < end else { throw fail("expected a value") }
            switch cursor.pointee {
            case UInt8(ascii: "\""):
                let from = output.count
                try parseString(into: &output)
                return .string(from..<output.count)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                let literalStart = cursor
                try skipNumber()
                let from = output.count
                output.append(contentsOf: UnsafeBufferPointer(start: literalStart, count: cursor - literalStart))
                return .number(from..<output.count)
            case UInt8(ascii: "n"):
                try skipValue(depth: 1)
                return .null
            default:
                try skipValue(depth: 1)
                return .other
            }
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
            let lead = cursor.pointee
            let length: Int
            var lower: UInt8 = 0x80
            var upper: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; lower = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; upper = 0x9F
            case 0xF0: length = 4; lower = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; upper = 0x8F
            default: throw fail("invalid UTF-8 lead byte 0x\(byteHex(lead))", kind: .invalidUTF8)
            }
            guard end - cursor >= length else { throw fail("truncated UTF-8 sequence", kind: .invalidUTF8) }
            let second = cursor[1]
            guard second >= lower && second <= upper else {
                throw fail("invalid UTF-8 continuation byte 0x\(byteHex(second))", kind: .invalidUTF8)
            }
            for i in 2..<max(length, 2) where cursor[i] & 0xC0 != 0x80 {
                throw fail("invalid UTF-8 continuation byte 0x\(byteHex(cursor[i]))", kind: .invalidUTF8)
            }
            cursor += length
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
