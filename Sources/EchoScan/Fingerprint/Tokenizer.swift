import Foundation

/// The tokens of one text: seeded hashes of the normalized words and the UTF-8 byte range each
/// came from in the original text (so that matches can be reported as spans of the input).
public struct TokenSequence: Sendable {
    public var hashes: [UInt64] = []
    public var starts: [UInt32] = []
    public var ends: [UInt32] = []

    public init() {}

    public var count: Int { hashes.count }
}

/// Writes tokens through pointers into arrays allocated for the most tokens a text can hold, so
/// that the tokenizer's inner loop has no uniqueness or capacity checks.
private struct TokenWriter {
    let hashes: UnsafeMutablePointer<UInt64>
    let starts: UnsafeMutablePointer<UInt32>
    let ends: UnsafeMutablePointer<UInt32>
    let capacity: Int
    var count = 0

    @inline(__always)
    mutating func append(_ hash: UInt64, _ start: Int, _ end: Int) {
        precondition(count < capacity, "more tokens than a text of this length can hold")
        hashes[count] = hash
        starts[count] = UInt32(truncatingIfNeeded: start)
        ends[count] = UInt32(truncatingIfNeeded: end)
        count += 1
    }
}

/// Normalizes and tokenizes text in one pass over its UTF-8 bytes.
///
/// Tokens are runs of letters and digits (Unicode letters, marks and numbers), case-folded and NFKC-
/// normalized; each CJK ideograph, kana or Hangul syllable is a token by itself. Everything else —
/// punctuation, straight or curly quotes, dashes, non-breaking spaces, markdown emphasis and heading
/// marks, line breaks, HTML tags — only separates tokens, and the number of an ordered-list marker
/// at the start of a line ("1.", "2)") is dropped. So reformatting a text leaves its tokens unchanged.
///
/// ASCII takes a fast path (a byte table and incremental hashing); only tokens with non-ASCII
/// scalars go through Foundation's NFKC and lowercasing.
public struct Tokenizer: Sendable {
    public let seed: UInt64

    public init(seed: UInt64) {
        self.seed = seed
    }

    /// For a byte below 0x80: 1 for ASCII letters, 2 for digits, 0 otherwise. Arithmetic, not a
    /// table: a table read inside the loop's closure kept the loop's variables in memory.
    @inline(__always)
    static func asciiKind(_ byte: UInt8) -> UInt8 {
        if byte &- 0x30 < 10 { return 2 }
        return (byte | 0x20) &- 0x61 < 26 ? 1 : 0
    }

    public func tokenize(_ text: UnsafeBufferPointer<UInt8>, into tokens: inout TokenSequence) {
        // A token takes at least two bytes with what separates it from the next (an ASCII word
        // ends at a byte that is not a letter or digit; a CJK character is three bytes), so a text
        // of n bytes holds at most n / 2 + 1 tokens.
        let capacity = text.count / 2 + 1
        var starts: [UInt32] = []
        var ends: [UInt32] = []
        let hashes = [UInt64](unsafeUninitializedCapacity: capacity) { hashBuffer, hashCount in
            starts = [UInt32](unsafeUninitializedCapacity: capacity) { startBuffer, startCount in
                ends = [UInt32](unsafeUninitializedCapacity: capacity) { endBuffer, endCount in
                    guard let hashBase = hashBuffer.baseAddress, let startBase = startBuffer.baseAddress,
                          let endBase = endBuffer.baseAddress else { return }
                    var writer = TokenWriter(hashes: hashBase, starts: startBase, ends: endBase, capacity: capacity)
                    scan(text, into: &writer)
                    endCount = writer.count
                }
                startCount = ends.count
            }
            hashCount = starts.count
        }
        tokens.hashes = hashes
        tokens.starts = starts
        tokens.ends = ends
    }

    private func scan(_ text: UnsafeBufferPointer<UInt8>, into tokens: inout TokenWriter) {
        let count = text.count
        var index = 0
        var atLineStart = true
        while index < count {
            // Skip separators eight bytes at a time to the next byte that needs a look: a
            // letter or digit, a line break, "<" or a non-ASCII byte. One predictable branch
            // per gap instead of one per separator byte.
            if let base = text.baseAddress, index + 8 <= count {
                let bytes = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self).littleEndian
                let (stops, word, digits) = Self.stopBytes(bytes)
                guard stops != 0 else {
                    index += 8
                    continue
                }
                let offset = UInt64(stops.trailingZeroBitCount >> 3)
                // Most words start at the stop and end inside these eight bytes: hash them from
                // the bytes at hand, as the word loop below would. Anything else (a word that
                // runs on, a non-ASCII byte right after it, digits that may be a list marker at
                // a line start) takes the general path.
                let following = (~word & Self.highBits) >> (8 * offset)
                let length = UInt64(following.trailingZeroBitCount >> 3)
                let prefix: UInt64 = (1 << (8 * length)) &- 1
                if word >> (8 * offset) & 0x80 != 0, offset + length < 8,
                   (bytes >> (8 * (offset + length))) & 0x80 == 0,
                   !atLineStart || ((word & ~digits) >> (8 * offset)) & prefix != 0 {
                    var hasher = TokenHasher(seed: seed)
                    hasher.addTail(((bytes >> (8 * offset)) | 0x2020_2020_2020_2020) & prefix, count: Int(length))
                    let start = index + Int(offset)
                    tokens.append(hasher.finish(), start, start + Int(length))
                    index = start + Int(length)
                    atLineStart = false
                    continue
                }
                index += Int(offset)
            }
            let byte = text[index]
            if byte < 0x80 {
                let kind = Self.asciiKind(byte)
                if kind != 0 {
                    // Find the end of the ASCII word eight bytes at a time, then hash it a word
                    // at a time: OR-ing 0x20 lowercases letters and leaves digits as they are.
                    var end = index
                    var allDigits = true
                    var hasher = TokenHasher(seed: seed)
                    var foundEnd = false
                    if let base = text.baseAddress {
                        while end + 8 <= count {
                            let bytes = UnsafeRawPointer(base + end).loadUnaligned(as: UInt64.self).littleEndian
                            let (word, digits) = Self.wordBytes(bytes)
                            let separators = ~word & Self.highBits
                            let length = separators.trailingZeroBitCount >> 3
                            // Bytes [0, length) continue the word: a mask of their low bits.
                            let prefix: UInt64 = length == 8 ? .max : (1 << UInt64(8 * length)) &- 1
                            allDigits = allDigits && (digits & prefix) == (word & prefix)
                            if length == 8 {
                                hasher.addWord(bytes | 0x2020_2020_2020_2020)
                                end += 8
                                continue
                            }
                            // The tail, packed as the byte-at-a-time path would pack it.
                            hasher.addTail((bytes | 0x2020_2020_2020_2020) & prefix, count: length)
                            end += length
                            foundEnd = true
                            break
                        }
                    }
                    if !foundEnd {
                        // The last few bytes of the text.
                        var chunk = end
                        while end < count {
                            let next = text[end]
                            let nextKind = next < 0x80 ? Self.asciiKind(next) : 0
                            if nextKind == 0 { break }
                            allDigits = allDigits && nextKind == 2
                            end += 1
                        }
                        while chunk < end {
                            hasher.add(text[chunk] | 0x20)
                            chunk += 1
                        }
                    }
                    if end < count, text[end] >= 0x80, Self.continuesWord(text, at: end) {
                        index = slowWord(text, from: index, into: &tokens)
                        atLineStart = false
                        continue
                    }
                    if atLineStart, allDigits, Self.isListMarkerEnd(text, at: end) {
                        index = end + 1
                        continue
                    }
                    tokens.append(hasher.finish(), index, end)
                    index = end
                    atLineStart = false
                } else if byte == 0x0A {
                    atLineStart = true
                    index += 1
                } else if byte == UInt8(ascii: "<"), let tagEnd = Self.htmlTagEnd(text, from: index) {
                    index = tagEnd
                } else {
                    index += 1
                }
            } else {
                let (scalar, length) = Self.decode(text, at: index)
                if Self.isSingleCharacterToken(scalar) {
                    tokens.append(hashNormalized(String(Character(Unicode.Scalar(scalar) ?? "\u{FFFD}"))), index, index + length)
                    index += length
                    atLineStart = false
                } else if Self.isWordScalar(scalar) {
                    index = slowWord(text, from: index, into: &tokens)
                    atLineStart = false
                } else {
                    index += length
                }
            }
        }
    }

    /// A word that contains non-ASCII scalars: gathered, normalized with NFKC and lowercased as a whole.
    private func slowWord(_ text: UnsafeBufferPointer<UInt8>, from start: Int, into tokens: inout TokenWriter) -> Int {
        var scalars = String.UnicodeScalarView()
        var index = start
        while index < text.count {
            let (scalar, length) = Self.decode(text, at: index)
            guard Self.isWordScalar(scalar), !Self.isSingleCharacterToken(scalar), let value = Unicode.Scalar(scalar) else { break }
            scalars.append(value)
            index += length
        }
        tokens.append(hashNormalized(String(scalars)), start, index)
        return index
    }

    private func hashNormalized(_ word: String) -> UInt64 {
        StableHash.hash(bytes: word.precomposedStringWithCompatibilityMapping.lowercased().utf8, seed: seed)
    }

    /// Whether a non-ASCII scalar at `index` continues an ASCII word (e.g. the "é" of "café").
    private static func continuesWord(_ text: UnsafeBufferPointer<UInt8>, at index: Int) -> Bool {
        let (scalar, _) = decode(text, at: index)
        return isWordScalar(scalar) && !isSingleCharacterToken(scalar)
    }

    static func isWordScalar(_ value: UInt32) -> Bool {
        if value < 0x80 { return asciiKind(UInt8(value)) != 0 }
        guard let scalar = Unicode.Scalar(value) else { return false }
        let properties = scalar.properties
        if properties.isAlphabetic || properties.numericType != nil { return true }
        switch properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: return true
        default: return false
        }
    }

    /// CJK ideographs, kana and Hangul: written without spaces, so each is one token.
    static func isSingleCharacterToken(_ value: UInt32) -> Bool {
        switch value {
        case 0x3040...0x30FF, 0x31F0...0x31FF,          // hiragana, katakana
             0x3400...0x4DBF, 0x4E00...0x9FFF,           // CJK ideographs
             0xF900...0xFAFF, 0x20000...0x3134F,         // compatibility and supplementary ideographs
             0xFF66...0xFF9F,                            // halfwidth katakana
             0x1100...0x11FF, 0x3130...0x318F, 0xAC00...0xD7AF: // Hangul
            return true
        default:
            return false
        }
    }

    /// A digit run at a line start followed by "." or ")" and a space is a list marker.
    private static func isListMarkerEnd(_ text: UnsafeBufferPointer<UInt8>, at index: Int) -> Bool {
        guard index + 1 < text.count else { return false }
        let mark = text[index]
        guard mark == UInt8(ascii: ".") || mark == UInt8(ascii: ")") else { return false }
        let after = text[index + 1]
        return after == 0x20 || after == 0x09
    }

    /// The end of an HTML tag such as `<b>`, `</div>` or `<a href="…">` that starts at `start`.
    private static func htmlTagEnd(_ text: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        var index = start + 1
        if index < text.count, text[index] == UInt8(ascii: "/") { index += 1 }
        guard index < text.count, text[index] < 0x80, asciiKind(text[index]) == 1 else { return nil }
        let limit = min(text.count, start + 256)
        while index < limit {
            switch text[index] {
            case UInt8(ascii: ">"): return index + 1
            case UInt8(ascii: "<"), 0x0A: return nil
            default: index += 1
            }
        }
        return nil
    }

    static let highBits: UInt64 = 0x8080_8080_8080_8080

    /// For eight bytes, the high bit of each byte that is an ASCII letter or digit, and of each that
    /// is an ASCII digit (SWAR range tests: adding 0x80 - lo sets bit 7 exactly when a 7-bit byte
    /// is at least lo, and no byte carries into the next).
    @inline(__always)
    static func wordBytes(_ bytes: UInt64) -> (word: UInt64, digits: UInt64) {
        let ascii = ~bytes & highBits
        let low = bytes & 0x7F7F_7F7F_7F7F_7F7F
        let digits = (low &+ 0x5050_5050_5050_5050) & ~(low &+ 0x4646_4646_4646_4646)  // 0x30...0x39
        let folded = low | 0x2020_2020_2020_2020
        let letters = (folded &+ 0x1F1F_1F1F_1F1F_1F1F) & ~(folded &+ 0x0505_0505_0505_0505)  // 0x61...0x7A
        return ((digits | letters) & ascii, digits & ascii)
    }

    /// For eight bytes, the high bit of each that the separator skip must stop at: ASCII letters
    /// and digits, line breaks (list markers), "<" (HTML tags) and non-ASCII bytes; and, of those,
    /// the letters and digits, and the digits. Exact per byte (no borrow crosses bytes), so the lowest set bit is
    /// the first stop.
    @inline(__always)
    static func stopBytes(_ bytes: UInt64) -> (stops: UInt64, word: UInt64, digits: UInt64) {
        let low = bytes & 0x7F7F_7F7F_7F7F_7F7F
        // A 7-bit byte y is zero exactly when y + 0x7F leaves bit 7 clear.
        let newline = ~((low ^ 0x0A0A_0A0A_0A0A_0A0A) &+ 0x7F7F_7F7F_7F7F_7F7F)
        let angle = ~((low ^ 0x3C3C_3C3C_3C3C_3C3C) &+ 0x7F7F_7F7F_7F7F_7F7F)
        let (word, digits) = wordBytes(bytes)
        return (word | ((newline | angle) & highBits) | (bytes & highBits), word, digits)
    }

    /// Decodes the scalar at `index`; malformed bytes decode as U+FFFD of length 1.
    @inline(__always)
    static func decode(_ text: UnsafeBufferPointer<UInt8>, at index: Int) -> (UInt32, Int) {
        let lead = UInt32(text[index])
        if lead < 0x80 { return (lead, 1) }
        let remaining = text.count - index
        func continuation(_ offset: Int) -> UInt32? {
            guard offset < remaining else { return nil }
            let byte = text[index + offset]
            return byte & 0xC0 == 0x80 ? UInt32(byte & 0x3F) : nil
        }
        switch lead {
        case 0xC2...0xDF:
            if let b1 = continuation(1) { return ((lead & 0x1F) << 6 | b1, 2) }
        case 0xE0...0xEF:
            if let b1 = continuation(1), let b2 = continuation(2) {
                let value = (lead & 0x0F) << 12 | b1 << 6 | b2
                if value >= 0x800 && !(0xD800...0xDFFF).contains(value) { return (value, 3) }
            }
        case 0xF0...0xF4:
            if let b1 = continuation(1), let b2 = continuation(2), let b3 = continuation(3) {
                let value = (lead & 0x07) << 18 | b1 << 12 | b2 << 6 | b3
                if value >= 0x10000 && value <= 0x10FFFF { return (value, 4) }
            }
        default:
            break
        }
        return (0xFFFD, 1)
    }
}
