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
/// marks, line breaks, HTML tags and entities — only separates tokens; the number of an ordered-list
/// marker ("1.", "2)") is dropped wherever it stands; invisible characters and line-end hyphens
/// inside a word are skipped; Cyrillic and Greek look-alike letters count as the Latin letters they
/// imitate. So joining, re-wrapping or reformatting a text leaves its tokens unchanged.
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
        while index < count {
            if index + 64 <= count, let base = text.baseAddress {
                var needsGeneralStep = false
                let stop = echoscan_tokenize_ascii(base, count, index, seed, &tokens.buffer, &needsGeneralStep)
                precondition(stop >= 0, "more tokens than a text of this length can hold") // SIZE_MAX
                index = stop
                guard needsGeneralStep else { continue }
            }
            // One step of the general path: a non-ASCII scalar, a word that runs into one, into
            // a line-end hyphen or past 64 bytes, or anything in the last 64 bytes of the text.
            let byte = text[index]
            if byte < 0x80 {
                let kind = Self.asciiKind(byte)
                if kind != 0 {
                    var end = index + 1
                    while end < count, text[end] < 0x80, Self.asciiKind(text[end]) != 0 { end += 1 }
                    if end < count, Self.continuation(text, at: end) != nil {
                        index = slowWord(text, from: index, into: &tokens)
                        continue
                    }
                    if echoscan_is_list_marker(text.baseAddress, count, index, end - index)
                        || echoscan_is_entity_name(text.baseAddress, count, index, end - index) {
                        index = end
                        continue
                    }
                    tokens.append(echoscan_hash_ascii_word(text.baseAddress, count, index, end - index, seed), index, end)
                    index = end
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
                } else if Self.isWordScalar(scalar) {
                    index = slowWord(text, from: index, into: &tokens)
                } else {
                    index += length
                }
            }
        }
    }

    /// A word that contains non-ASCII scalars, invisible characters or a line-end hyphen:
    /// gathered (look-alike letters as their Latin skeleton, see `latinSkeleton`), normalized
    /// with NFKC and lowercased as a whole.
    private func slowWord(_ text: UnsafeBufferPointer<UInt8>, from start: Int, into tokens: inout TokenWriter) -> Int {
        // Hashed as it goes while every scalar is ASCII, a look-alike or a simple Latin letter,
        // whose NFKC form is itself and whose lowercase is fixed: most non-ASCII words of
        // European text ("café", "Hašek"), which Foundation's NFKC took some 3 µs each to normalize.
        var hasher = TokenHasher(seed: seed)
        var simple = true
        let end = Self.forEachWordScalar(text, from: start) { scalar in
            if scalar < 0x80 {
                hasher.add(UInt8(scalar) | 0x20) // a letter or digit: lowercased, digits unchanged
            } else if scalar < Self.latinLimit, case let lowercase = Self.simpleLatin[Int(scalar) - 0x80], lowercase != 0 {
                for byte in 0..<Int(lowercase >> 24) { hasher.add(UInt8(truncatingIfNeeded: lowercase >> (8 * byte))) }
            } else {
                simple = false
            }
        }
        if simple {
            tokens.append(hasher.finish(), start, end)
        } else {
            var scalars = String.UnicodeScalarView()
            _ = Self.forEachWordScalar(text, from: start) { scalars.append(Unicode.Scalar($0) ?? "\u{FFFD}") }
            tokens.append(hashNormalized(String(scalars)), start, end)
        }
        return end
    }

    /// Calls `body` with each scalar of the word at `start` (look-alikes replaced by their
    /// skeleton; invisible characters and line-end hyphens inside the word skipped) and returns
    /// where the word ends.
    @inline(__always)
    private static func forEachWordScalar(_ text: UnsafeBufferPointer<UInt8>, from start: Int, _ body: (UInt32) -> Void) -> Int {
        var index = start
        while index < text.count {
            let (scalar, length) = decode(text, at: index)
            if isWordScalar(scalar), !isSingleCharacterToken(scalar) {
                body(latinSkeleton(scalar) ?? scalar)
                index += length
            } else if let resumed = continuation(text, at: index) {
                index = resumed
            } else {
                break
            }
        }
        return index
    }

    /// Where a word that has reached `index` goes on, or nil where it ends there: at the next
    /// scalar when it continues the word ("é" of "café"); past invisible characters (zero-width
    /// space, joiners, word joiner, byte-order mark, soft hyphen) that stand inside a word; past
    /// a hyphen at a line end followed by a lowercase letter ("exam-\nple"), which re-wrapping
    /// puts in and joining lines takes out.
    static func continuation(_ text: UnsafeBufferPointer<UInt8>, at index: Int) -> Int? {
        guard index < text.count else { return nil }
        let byte = text[index]
        if byte == UInt8(ascii: "-") {
            var next = index + 1
            while next < text.count, text[next] == UInt8(ascii: " ") || text[next] == UInt8(ascii: "\t") || text[next] == UInt8(ascii: "\r") { next += 1 }
            guard next < text.count, text[next] == UInt8(ascii: "\n") else { return nil }
            next += 1
            while next < text.count, text[next] == UInt8(ascii: " ") || text[next] == UInt8(ascii: "\t") { next += 1 }
            guard next < text.count, text[next] &- UInt8(ascii: "a") < 26 else { return nil }
            return next
        }
        guard byte >= 0x80 else { return nil }
        let (scalar, length) = decode(text, at: index)
        if isWordScalar(scalar) { return isSingleCharacterToken(scalar) ? nil : index }
        guard isInvisible(scalar) else { return nil }
        var next = index + length
        while next < text.count, text[next] >= 0x80, case let (following, size) = decode(text, at: next), isInvisible(following) {
            next += size
        }
        guard next < text.count else { return nil }
        let (following, _) = decode(text, at: next)
        return isWordScalar(following) && !isSingleCharacterToken(following) ? next : nil
    }

    /// Characters that are not shown: inside a word they neither separate nor belong to it.
    @inline(__always)
    static func isInvisible(_ scalar: UInt32) -> Bool {
        switch scalar {
        case 0x00AD, 0x200B...0x200D, 0x2060, 0xFEFF: return true
        default: return false
        }
    }

    /// The Latin letter a Cyrillic or Greek look-alike stands for (lowercase ASCII), as in the
    /// confusable skeletons of Unicode TR39: a text whose "а" (U+0430) replaced "a" is the same
    /// text. Applied to every word, so real Cyrillic and Greek text stays self-consistent.
    @inline(__always)
    static func latinSkeleton(_ scalar: UInt32) -> UInt32? {
        guard scalar >= 0x0391, scalar <= 0x051D else { return nil }
        let ascii: Character
        switch scalar {
        case 0x0410, 0x0430, 0x0391, 0x03B1: ascii = "a"
        case 0x0412, 0x0392: ascii = "b"
        case 0x0421, 0x0441, 0x03F2: ascii = "c"
        case 0x0501: ascii = "d"
        case 0x0415, 0x0435, 0x0395: ascii = "e"
        case 0x041D, 0x04BB, 0x0397: ascii = "h"
        case 0x0406, 0x0456, 0x0399, 0x03B9, 0x04CF: ascii = "i"
        case 0x0408, 0x0458, 0x03F3: ascii = "j"
        case 0x041A, 0x039A, 0x03BA: ascii = "k"
        case 0x041C, 0x039C: ascii = "m"
        case 0x039D: ascii = "n"
        case 0x041E, 0x043E, 0x039F, 0x03BF: ascii = "o"
        case 0x0420, 0x0440, 0x03A1, 0x03C1: ascii = "p"
        case 0x051B: ascii = "q"
        case 0x0405, 0x0455: ascii = "s"
        case 0x0422, 0x03A4: ascii = "t"
        case 0x03C5: ascii = "u"
        case 0x03BD: ascii = "v"
        case 0x051D: ascii = "w"
        case 0x0425, 0x0445, 0x03A7, 0x03C7: ascii = "x"
        case 0x0423, 0x0443, 0x03A5: ascii = "y"
        case 0x0396: ascii = "z"
        default: return nil
        }
        return UInt32(ascii.asciiValue ?? 0)
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
