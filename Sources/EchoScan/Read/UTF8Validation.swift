/// Well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF): the JSON extractor checks
/// each multi-byte sequence in a string, the Parquet reader whole values.
enum UTF8Validation {
    enum Sequence {
        case valid(length: Int)
        case invalidLead(UInt8)
        case truncated
        case invalidContinuation(UInt8)
    }

    /// The multi-byte sequence whose lead byte `start` points at, with `available` bytes readable.
    @inline(__always)
    static func sequence(at start: UnsafePointer<UInt8>, available: Int) -> Sequence {
        let lead = start.pointee
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
        default: return .invalidLead(lead)
        }
        guard available >= length else { return .truncated }
        guard start[1] >= lower && start[1] <= upper else { return .invalidContinuation(start[1]) }
        for index in 2..<max(length, 2) where start[index] & 0xC0 != 0x80 { return .invalidContinuation(start[index]) }
        return .valid(length: length)
    }

    static func isValid(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.withUnsafeBufferPointer { isValid($0) }
    }

    /// Checks eight ASCII bytes at a time, sequences one by one.
    static func isValid(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        var index = 0
        let count = bytes.count
        while index < count {
            if count - index >= 8, UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                index += 8
                continue
            }
            if base[index] < 0x80 {
                index += 1
                continue
            }
            guard case .valid(let length) = sequence(at: base + index, available: count - index) else { return false }
            index += length
        }
        return true
    }
}
