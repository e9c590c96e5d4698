import CEchoScanShims

/// The features the style detector reads in a text: hashed word unigrams and bigrams (punctuation
/// marks are words of their own, so that ": " and "—" rates and "Certainly!" count), the shape of
/// each line's start (heading, bullet, number, bold lead-in, quote, table, code fence, text), and
/// the first and last three words (openers and closers).
///
/// Character n-grams were measured too (leave one model out over ../shared/data, texts of 150
/// words or more): with them the vendor accuracy fell from 0.73 to 0.69, and they cost five
/// times the look-ups. Word trigrams added nothing over bigrams (0.728 against 0.726).
struct StyleFeatures {
    /// Features are hashed into `1 << bits` buckets.
    static let bits = 18
    static let bucketCount = 1 << bits
    /// Words read per text: a verdict on the first 256 words was as good as on all of them (held
    /// out by model over ../shared/data, logistic regression: 0.779 at 256 and 512 words and
    /// without a limit), and a long document costs no more than that.
    static let maximumWords = 256

    /// One occurrence of a feature per element, in text order.
    private(set) var features: [UInt32] = []
    /// Words (not punctuation) read.
    private(set) var wordCount = 0

    init() {}

    /// Reads `text`. A word found in `excludedWords` (the words of the prompt a reference answers)
    /// gives no unigram, and no bigram with another such word: what a model copies from its prompt
    /// is not its style.
    mutating func read(_ text: UnsafeBufferPointer<UInt8>, excludedWords: Set<UInt64>? = nil) {
        features.removeAll(keepingCapacity: true)
        wordCount = 0
        var previous: UInt64 = 0
        var previousExcluded = true
        var first: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var last: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var tokens = 0
        var atLineStart = true
        var position = 0
        let count = text.count
        while position < count, wordCount < Self.maximumWords {
            let byte = text[position]
            if byte == 0x0A {
                atLineStart = true
                position += 1
                continue
            }
            if Self.isSpace(byte) {
                position += 1
                continue
            }
            if atLineStart {
                atLineStart = false
                features.append(Self.bucket(StableHash.mix(LineShape(text, at: position).rawValue &+ 0x5348_4150_4500)))
            }
            let (hash, end, isWord) = Self.token(text, at: position)
            position = end
            let excluded = isWord && excludedWords?.contains(hash) == true
            if isWord { wordCount += 1 }
            if !excluded { features.append(Self.wordBucket(hash)) }
            if tokens > 0 && !(excluded && previousExcluded) {
                features.append(Self.pairBucket(previous, hash))
            }
            switch tokens {
            case 0: first.0 = hash
            case 1: first.1 = hash
            case 2: first.2 = hash
            default: break
            }
            last = (last.1, last.2, hash)
            previous = hash
            previousExcluded = excluded
            tokens += 1
        }
        guard tokens > 0 else { return }
        let opener = [first.0, first.1, first.2].prefix(tokens)
        features.append(Self.bucket(StableHash.sequence(Array(opener)) ^ 0x4F50_454E))
        let closer = [last.0, last.1, last.2].suffix(min(3, tokens))
        features.append(Self.bucket(StableHash.sequence(Array(closer)) ^ 0x434C_4F53))
    }

    /// Counts, for each wanted bucket, the words and pairs of words of `text` that fall in it
    /// (lowercased, joined by a space): a bucket is named by its most frequent one.
    static func countNames(_ wanted: Set<UInt32>, in text: UnsafeBufferPointer<UInt8>, counts: inout [UInt32: [String: Int]]) {
        var previous: (hash: UInt64, start: Int)? = nil
        func record(_ bucket: UInt32, _ range: Range<Int>) {
            guard wanted.contains(bucket) else { return }
            let name = String(decoding: text[range], as: UTF8.self).lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
            counts[bucket, default: [:]][name, default: 0] += 1
        }
        forEachToken(of: text) { hash, range, _ in
            record(wordBucket(hash), range)
            if let previous { record(pairBucket(previous.hash, hash), previous.start..<range.upperBound) }
            previous = (hash, range.lowerBound)
        }
    }

    /// The hashes of the words of `text`, for `read(_:excludedWords:)`.
    static func words(of text: UnsafeBufferPointer<UInt8>) -> Set<UInt64> {
        var words = Set<UInt64>()
        forEachToken(of: text) { hash, _, isWord in
            if isWord { words.insert(hash) }
        }
        return words
    }

    /// Calls `body` with each token of `text`: its hash, its byte range, whether it is a word.
    static func forEachToken(of text: UnsafeBufferPointer<UInt8>, _ body: (UInt64, Range<Int>, Bool) -> Void) {
        var position = 0
        while position < text.count {
            if isSpace(text[position]) { position += 1; continue }
            let (hash, end, isWord) = token(text, at: position)
            body(hash, position..<end, isWord)
            position = end
        }
    }

    /// The token at `position` (not a space): its hash (FNV-1a of its lowercased bytes), where it
    /// ends, and whether it is a word rather than a punctuation mark (`echoscan_style_token`).
    @inline(__always)
    static func token(_ text: UnsafeBufferPointer<UInt8>, at start: Int) -> (hash: UInt64, end: Int, isWord: Bool) {
        guard let base = text.baseAddress else { return (0, start + 1, false) }
        var hash: UInt64 = 0
        var isWord: Int32 = 0
        let end = echoscan_style_token(base, text.count, start, &hash, &isWord)
        return (hash, end, isWord != 0)
    }

    /// Whether `byte` separates tokens (a space, a tab, a carriage return or a line feed).
    @inline(__always)
    static func isSpace(_ byte: UInt8) -> Bool {
        let c = echoscan_style_class(byte)
        return c == UInt8(ECHOSCAN_STYLE_SPACE) || c == UInt8(ECHOSCAN_STYLE_NEWLINE)
    }

    @inline(__always)
    static func wordBucket(_ hash: UInt64) -> UInt32 { bucket(StableHash.mix(hash)) }

    @inline(__always)
    static func pairBucket(_ first: UInt64, _ second: UInt64) -> UInt32 { bucket(StableHash.mix(first &* 0x9E37_79B9_7F4A_7C15 ^ second ^ 0xB1)) }

    @inline(__always)
    static func bucket(_ hash: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: hash >> UInt64(64 - bits)) }
}

/// How a line of text starts: markdown's and models' layout, one of the style features.
enum LineShape: UInt64 {
    case text = 1, heading, bullet, number, boldLeadIn, quote, table, codeFence

    init(_ text: UnsafeBufferPointer<UInt8>, at start: Int) {
        func byte(_ offset: Int) -> UInt8 { start + offset < text.count ? text[start + offset] : 0 }
        switch byte(0) {
        case UInt8(ascii: "#"): self = .heading
        case UInt8(ascii: ">"): self = .quote
        case UInt8(ascii: "|"): self = .table
        case UInt8(ascii: "`") where byte(1) == UInt8(ascii: "`"): self = .codeFence
        case UInt8(ascii: "*") where byte(1) == UInt8(ascii: "*"): self = .boldLeadIn
        case UInt8(ascii: "-"), UInt8(ascii: "*"), UInt8(ascii: "+"): self = byte(1) == 0x20 ? .bullet : .text
        case 0xE2 where byte(1) == 0x80 && byte(2) == 0xA2: self = .bullet
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            var offset = 1
            while (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte(offset)) { offset += 1 }
            self = byte(offset) == UInt8(ascii: ".") || byte(offset) == UInt8(ascii: ")") ? .number : .text
        default: self = .text
        }
    }
}
