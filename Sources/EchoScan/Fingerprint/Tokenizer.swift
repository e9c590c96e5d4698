import CEchoScanShims
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
/// that the tokenizer's inner loop has no uniqueness or capacity checks. The C loop over ASCII
/// text (`echoscan_tokenize_ascii`) writes through the same buffer.
private struct TokenWriter {
    var buffer: echoscan_token_buffer

    @inline(__always)
    mutating func append(_ hash: UInt64, _ start: Int, _ end: Int) {
        precondition(buffer.count < buffer.capacity, "more tokens than a text of this length can hold")
        buffer.hashes[buffer.count] = hash
        buffer.starts[buffer.count] = UInt32(truncatingIfNeeded: start)
        buffer.ends[buffer.count] = UInt32(truncatingIfNeeded: end)
        buffer.count += 1
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
/// ASCII takes a fast path in C (`echoscan_tokenize_ascii`, CEchoScanShims): 64 bytes at a time
/// are classified into bit masks (SSE2) and their words hashed eight bytes at a time. Only tokens
/// with non-ASCII scalars go through Foundation's NFKC and lowercasing.
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
                    var writer = TokenWriter(buffer: echoscan_token_buffer(hashes: hashBase, starts: startBase, ends: endBase,
                                                                           count: 0, capacity: capacity))
                    scan(text, into: &writer)
                    endCount = writer.buffer.count
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
            if index + 64 <= count, let base = text.baseAddress {
                var needsGeneralStep = false
                let stop = echoscan_tokenize_ascii(base, count, index, &atLineStart, seed, &tokens.buffer, &needsGeneralStep)
                precondition(stop >= 0, "more tokens than a text of this length can hold") // SIZE_MAX
                index = stop
                guard needsGeneralStep else { continue }
            }
            // One step of the general path: a non-ASCII scalar, a word that runs into one or
            // past 64 bytes, or anything in the last 64 bytes of the text.
            let byte = text[index]
            if byte < 0x80 {
                let kind = Self.asciiKind(byte)
                if kind != 0 {
                    var end = index + 1
                    while end < count, text[end] < 0x80, Self.asciiKind(text[end]) != 0 { end += 1 }
                    if end < count, text[end] >= 0x80, Self.continuesWord(text, at: end) {
                        index = slowWord(text, from: index, into: &tokens)
                        atLineStart = false
                        continue
                    }
                    if atLineStart, echoscan_is_list_marker(text.baseAddress, count, index, end - index) {
                        index = end + 1
                        continue
                    }
                    tokens.append(echoscan_hash_ascii_word(text.baseAddress, count, index, end - index, seed), index, end)
                    index = end
                    atLineStart = false
                } else if byte == 0x0A {
                    atLineStart = true
                    index += 1
                } else if byte == UInt8(ascii: "<"), case let tagEnd = echoscan_html_tag_end(text.baseAddress, count, index), tagEnd >= 0 {
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
        // Hashed as it goes while every scalar is ASCII or a simple Latin letter, whose NFKC
        // form is itself and whose lowercase is fixed: most non-ASCII words of European text
        // ("café", "Hašek"), which Foundation's NFKC took some 3 µs each to normalize.
        var hasher = TokenHasher(seed: seed)
        var simple = true
        var index = start
        while index < text.count {
            let (scalar, length) = Self.decode(text, at: index)
            guard Self.isWordScalar(scalar), !Self.isSingleCharacterToken(scalar) else { break }
            if scalar < 0x80 {
                hasher.add(UInt8(scalar) | 0x20) // a letter or digit: lowercased, digits unchanged
            } else if scalar < Self.latinLimit, case let lowercase = Self.simpleLatin[Int(scalar) - 0x80], lowercase != 0 {
                for byte in 0..<Int(lowercase >> 24) { hasher.add(UInt8(truncatingIfNeeded: lowercase >> (8 * byte))) }
            } else {
                simple = false
            }
            index += length
        }
        if simple {
            tokens.append(hasher.finish(), start, index)
        } else {
            var scalars = String.UnicodeScalarView()
            var position = start
            while position < index {
                let (scalar, length) = Self.decode(text, at: position)
                scalars.append(Unicode.Scalar(scalar) ?? "\u{FFFD}")
                position += length
            }
            tokens.append(hashNormalized(String(scalars)), start, index)
        }
        return index
    }

    /// Scalars from U+0080 below this may be simple Latin letters (`simpleLatin`).
    static let latinLimit: UInt32 = 0x250

    /// For each scalar from U+0080 below `latinLimit`: 0, or the UTF-8 bytes of its lowercase
    /// (from the low byte) with their count in the top byte, when the scalar is a word scalar,
    /// a starter, its own NFKC form and its lowercase fits in three bytes. Computed once, at first
    /// use, with the same Foundation calls as `hashNormalized` (a test checks every pair of them).
    static let simpleLatin: [UInt32] = (UInt32(0x80)..<latinLimit).map { value in
        guard isWordScalar(value), let scalar = Unicode.Scalar(value), scalar.properties.canonicalCombiningClass == .notReordered
        else { return 0 }
        let alone = String(scalar)
        guard alone.precomposedStringWithCompatibilityMapping.unicodeScalars.elementsEqual(alone.unicodeScalars) else { return 0 }
        let lowercase = Array(alone.lowercased().utf8)
        guard lowercase.count <= 3 else { return 0 }
        return lowercase.enumerated().reduce(UInt32(lowercase.count) << 24) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
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
        if value < tabledScalars {
            return wordScalars[Int(value) >> 6] & (1 << UInt64(value & 63)) != 0
        }
        return hasWordProperties(value)
    }

    /// Scalars below this are looked up in `wordScalars`: Latin, Greek, Cyrillic and the other
    /// alphabets, and the punctuation, dashes, quotes, arrows and box drawing that most non-ASCII
    /// text is made of. Their Unicode properties cost a few table walks each (an apostrophe like
    /// "’" was asked about twice: 2% of a dedup).
    static let tabledScalars: UInt32 = 0x3000

    /// One bit per scalar below `tabledScalars`: whether it is a word scalar. Computed once, at
    /// first use, from the properties themselves (about 12,000 look-ups).
    static let wordScalars: [UInt64] = {
        var words = [UInt64](repeating: 0, count: Int(tabledScalars) / 64)
        for value in 0..<tabledScalars where value < 0x80 ? asciiKind(UInt8(value)) != 0 : hasWordProperties(value) {
            words[Int(value) >> 6] |= 1 << UInt64(value & 63)
        }
        return words
    }()

    /// Letters, marks and numbers by their Unicode properties, except the variation selectors:
    /// marks that only choose a glyph (the emoji presentation of "❄️"), which a copy may keep or
    /// drop; as marks they were tokens of their own.
    static func hasWordProperties(_ value: UInt32) -> Bool {
        if (0xFE00...0xFE0F).contains(value) || (0xE0100...0xE01EF).contains(value) { return false }
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
