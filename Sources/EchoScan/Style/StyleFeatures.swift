import CEchoScanShims

/// The features the style detector reads in a text: hashed word unigrams and bigrams (punctuation
/// marks are words of their own, so that ": " and "—" rates and "Certainly!" count), the shape of
/// each line's start (heading, bullet, number, bold lead-in, quote, table, code fence, text), and
/// the first and last three words (openers and closers).
///
/// The words are the fingerprint's tokens (`Tokenizer`: normalized, so look-alike letters and
/// invisible characters change no feature), which a scan has already computed; the marks and the
/// line starts are read from the bytes between them (`forEachElement`).
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

    /// The features read, one occurrence per element, in text order: the first `featureCount`
    /// entries of `storage`, which keeps its size between texts.
    var features: ArraySlice<UInt32> { storage[..<featureCount] }
    private var storage: [UInt32] = []
    private var featureCount = 0
    /// Words (not punctuation) read.
    private(set) var wordCount = 0

    init() {}

    /// Reads `text`, whose tokens are `tokens`. A word found in `excludedWords` (the words of the
    /// prompt a reference answers) gives no unigram, and no bigram with another such word: what a
    /// model copies from its prompt is not its style.
    mutating func read(_ text: UnsafeBufferPointer<UInt8>, tokens: TokenSequence, excludedWords: Set<UInt64>? = nil) {
        // Every element (a word, or a mark of at least one byte between words) gives at most a
        // line start, a unigram and a bigram, and the text an opener and a closer: the features
        // fit in that many entries, written without a capacity check each.
        let words = min(tokens.count, Self.maximumWords)
        var wordBytes = 0
        for word in 0..<words { wordBytes += Int(tokens.ends[word] - tokens.starts[word]) }
        let readBytes = words == tokens.count ? text.count : Int(tokens.ends[words - 1])
        let bound = 3 * (words + readBytes - wordBytes) + 2
        if storage.count < bound { storage = Array(repeating: 0, count: bound) }
        var count = 0
        var wordCount = 0
        defer {
            featureCount = count
            self.wordCount = wordCount
        }
        // The writes are inline: a local function capturing `count` would be checked for
        // exclusive access at run time on every call.
        storage.withUnsafeMutableBufferPointer { features in
            var previous: UInt64 = 0
            var previousExcluded = true
            var first: (UInt64, UInt64, UInt64) = (0, 0, 0)
            var last: (UInt64, UInt64, UInt64) = (0, 0, 0)
            var elements = 0
            Self.forEachElement(of: text, tokens: tokens, words: Self.maximumWords) { element in
                let hash: UInt64, isWord: Bool
                switch element {
                case .lineStart(let shape):
                    features[count] = Self.bucket(StableHash.mix(shape.rawValue &+ 0x5348_4150_4500))
                    count += 1
                    return
                case .token(let value, _, let word):
                    hash = value
                    isWord = word
                }
                let excluded = isWord && excludedWords?.contains(hash) == true
                if isWord { wordCount += 1 }
                if !excluded {
                    features[count] = Self.wordBucket(hash)
                    count += 1
                }
                if elements > 0 && !(excluded && previousExcluded) {
                    features[count] = Self.pairBucket(previous, hash)
                    count += 1
                }
                switch elements {
                case 0: first.0 = hash
                case 1: first.1 = hash
                case 2: first.2 = hash
                default: break
                }
                last = (last.1, last.2, hash)
                previous = hash
                previousExcluded = excluded
                elements += 1
            }
            guard elements > 0 else { return }
            let kept = min(3, elements)
            let opener = withUnsafeBytes(of: first) { StableHash.sequence(UnsafeBufferPointer(rebasing: $0.bindMemory(to: UInt64.self).prefix(kept))) }
            features[count] = Self.bucket(opener ^ 0x4F50_454E)
            count += 1
            let closer = withUnsafeBytes(of: last) { StableHash.sequence(UnsafeBufferPointer(rebasing: $0.bindMemory(to: UInt64.self).suffix(kept))) }
            features[count] = Self.bucket(closer ^ 0x434C_4F53)
            count += 1
        }
    }

    /// Counts, for each wanted bucket, the words and pairs of words of `text` that fall in it
    /// (lowercased, joined by a space): a bucket is named by its most frequent one.
    static func countNames(_ wanted: Set<UInt32>, in text: UnsafeBufferPointer<UInt8>, tokens: TokenSequence, counts: inout [UInt32: [String: Int]]) {
        var previous: (hash: UInt64, start: Int)? = nil
        func record(_ bucket: UInt32, _ range: Range<Int>) {
            guard wanted.contains(bucket) else { return }
            let name = String(decoding: text[range], as: UTF8.self).lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
            counts[bucket, default: [:]][name, default: 0] += 1
        }
        forEachElement(of: text, tokens: tokens, words: .max) { element in
            guard case .token(let hash, let range, _) = element else { return }
            record(wordBucket(hash), range)
            if let previous { record(pairBucket(previous.hash, hash), previous.start..<range.upperBound) }
            previous = (hash, range.lowerBound)
        }
    }

    /// What the features are made of, in text order.
    enum Element {
        /// The first thing on a line.
        case lineStart(LineShape)
        /// A word (a fingerprint token) or a mark: its hash and byte range.
        case token(hash: UInt64, range: Range<Int>, isWord: Bool)
    }

    /// Calls `body` with the elements of `text` up to its first `words` words: before each word,
    /// the marks and line starts of the bytes since the previous one; after the last, those of the
    /// rest of the text when every word was read. A mark is an ASCII punctuation mark or a
    /// non-ASCII character between words (a dash, a curly quote, a bullet, an emoji), except
    /// invisible characters and spaces.
    static func forEachElement(of text: UnsafeBufferPointer<UInt8>, tokens: TokenSequence, words: Int, _ body: (Element) -> Void) {
        let wordCount = min(tokens.count, words)
        var atLineStart = true
        var position = 0
        for word in 0...wordCount {
            let gapEnd = word < wordCount ? Int(tokens.starts[word]) : (wordCount == tokens.count ? text.count : position)
            while position < gapEnd {
                let byte = text[position]
                let byteClass = echoscan_style_class(byte)
                if byteClass == UInt8(ECHOSCAN_STYLE_NEWLINE) {
                    atLineStart = true
                    position += 1
                    continue
                }
                if byteClass == UInt8(ECHOSCAN_STYLE_SPACE) {
                    position += 1
                    continue
                }
                var end = position + 1
                if byte >= 0x80 {
                    let (scalar, length) = Tokenizer.decode(text, at: position)
                    end = min(position + length, gapEnd)
                    if Tokenizer.isInvisible(scalar) || isUnicodeSpace(scalar) {
                        position = end
                        continue
                    }
                }
                if atLineStart {
                    atLineStart = false
                    body(.lineStart(LineShape(text, at: position)))
                }
                // ASCII letters and digits between words (a tag's, a list marker's) are no mark.
                if byte >= 0x80 || byteClass == UInt8(ECHOSCAN_STYLE_MARK) {
                    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
                    for offset in position..<end { hash = (hash ^ UInt64(text[offset])) &* 0x100_0000_01b3 }
                    body(.token(hash: hash, range: position..<end, isWord: false))
                }
                position = end
            }
            guard word < wordCount else { break }
            let start = Int(tokens.starts[word])
            if atLineStart {
                atLineStart = false
                body(.lineStart(LineShape(text, at: start)))
            }
            position = Int(tokens.ends[word])
            body(.token(hash: tokens.hashes[word], range: start..<position, isWord: true))
        }
    }

    /// Unicode's spaces beyond ASCII (no-break, en and em, thin, ideographic, line and paragraph
    /// separators): they separate, like a space.
    @inline(__always)
    static func isUnicodeSpace(_ scalar: UInt32) -> Bool {
        switch scalar {
        case 0x00A0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: return true
        default: return false
        }
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
