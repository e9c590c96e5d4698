/// The encoding of the index's `tokens` section, shared by the build that writes it and the
/// index that reads it: each group's token hashes as numbers into the `vocabulary` section,
/// LEB128 (seven bits a byte, the high bit set on all but a number's last byte). The vocabulary
/// lists the most frequent token first, so that the common words take one byte and a token
/// about 1.6 bytes instead of its 8-byte hash.
enum TokenCodec {
    /// The vocabulary in number order: by falling count, ties by hash (the same tokens, the same file).
    static func vocabulary(counts: [UInt64: Int]) -> [UInt64] {
        counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map(\.key)
    }

    /// Each hash's number in `vocabulary`.
    static func numbers(of vocabulary: [UInt64]) -> [UInt64: UInt32] {
        Dictionary(uniqueKeysWithValues: vocabulary.enumerated().map { ($0.element, UInt32($0.offset)) })
    }

    /// Appends `tokens` to `bytes`; every token must be in `numbers`.
    static func encode<Tokens: Sequence<UInt64>>(_ tokens: Tokens, numbers: [UInt64: UInt32], into bytes: inout [UInt8]) {
        for token in tokens {
            guard var number = numbers[token] else { preconditionFailure("a token outside the vocabulary") }
            while number >= 0x80 {
                bytes.append(UInt8(truncatingIfNeeded: number) | 0x80)
                number >>= 7
            }
            bytes.append(UInt8(number))
        }
    }

    /// Decodes `count` tokens of `bytes` into `tokens` (emptied first). False, with the tokens
    /// decoded so far, when the bytes end early or run on, or hold a number outside the
    /// vocabulary or longer than a u32 (a damaged or crafted file).
    static func decode(_ bytes: UnsafeRawBufferPointer, count: Int, vocabulary: UnsafeBufferPointer<UInt64>,
                       into tokens: inout [UInt64]) -> Bool {
        tokens.removeAll(keepingCapacity: true)
        tokens.reserveCapacity(count)
        var position = 0
        while tokens.count < count {
            var number: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard position < bytes.count, shift < 32 else { return false }
                let byte = bytes[position]
                position += 1
                number |= UInt64(byte & 0x7F) << shift
                if byte < 0x80 { break }
                shift += 7
            }
            guard number < UInt64(vocabulary.count) else { return false }
            tokens.append(vocabulary[Int(number)])
        }
        return position == bytes.count
    }
}
