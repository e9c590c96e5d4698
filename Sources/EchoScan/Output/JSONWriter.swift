import Foundation

/// Writes compact JSON into a byte buffer, deterministically: keys in the order written, numbers
/// in one fixed format (so manifests are byte-identical across machines and thread counts).
public struct JSONWriter: Sendable {
    public private(set) var bytes: [UInt8] = []
    /// Whether the next value in the current container needs a comma before it.
    private var needsComma = false

    public init(reservingCapacity: Int = 256) {
        bytes.reserveCapacity(reservingCapacity)
    }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        needsComma = true
    }

    public mutating func beginObject() { separate(); bytes.append(UInt8(ascii: "{")); needsComma = false }
    public mutating func endObject() { bytes.append(UInt8(ascii: "}")); needsComma = true }
    public mutating func beginArray() { separate(); bytes.append(UInt8(ascii: "[")); needsComma = false }
    public mutating func endArray() { bytes.append(UInt8(ascii: "]")); needsComma = true }

    public mutating func key(_ name: String) {
        separate()
        var name = name
        name.withUTF8 { appendQuoted($0) }
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    public mutating func string(_ value: String) {
        var value = value
        value.withUTF8 { string(utf8: $0) }
    }

    public mutating func string(utf8 value: UnsafeBufferPointer<UInt8>) {
        separate()
        appendQuoted(value)
    }

    public mutating func optionalString(_ value: String?) {
        if let value { string(value) } else { null() }
    }

    public mutating func null() { separate(); bytes.append(contentsOf: "null".utf8) }
    public mutating func bool(_ value: Bool) { separate(); bytes.append(contentsOf: (value ? "true" : "false").utf8) }
    public mutating func integer(_ value: Int) {
        separate()
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        appendDigits(value.magnitude)
    }

    /// A number rounded to four decimals, written without exponent or trailing zeros.
    public mutating func number(_ value: Double) {
        separate()
        appendNumber(value)
    }

    /// A probability: four decimals from 0.0001 up, below that three significant digits with an
    /// exponent ("2.35e-7"), so that small probabilities do not read as 0.
    public mutating func probability(_ value: Double) {
        separate()
        appendProbability(value)
    }

    /// Raw, already-valid JSON.
    public mutating func raw(_ json: [UInt8]) { separate(); bytes.append(contentsOf: json) }

    /// How `probability(_:)` spells `value`.
    static func formatProbability(_ value: Double) -> String {
        var writer = JSONWriter(reservingCapacity: 24)
        writer.appendProbability(value)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    private mutating func appendProbability(_ value: Double) {
        guard value.isFinite, value > 0, value < 0.0001 else { appendNumber(value); return }
        var exponent = Int(log10(value).rounded(.down))
        var mantissa = (value / pow(10, Double(exponent)) * 100).rounded() / 100
        if mantissa >= 10 { mantissa /= 10; exponent += 1 }
        appendNumber(mantissa)
        bytes.append(UInt8(ascii: "e"))
        if exponent < 0 { bytes.append(UInt8(ascii: "-")) }
        appendDigits(exponent.magnitude)
    }

    /// `value` rounded to four decimals, without exponent or trailing zeros; digits appended in
    /// place, since a manifest and its attribute lines write several numbers per document.
    private mutating func appendNumber(_ value: Double) {
        guard value.isFinite else { bytes.append(contentsOf: "null".utf8); return }
        let scaled = (value * 10_000).rounded()
        // Beyond 1.8e15 the ten-thousandths leave UInt64: Swift's own spelling (valid JSON).
        guard abs(scaled) < 1.8e19 else { bytes.append(contentsOf: String(value).utf8); return }
        let magnitude = UInt(abs(scaled))
        if scaled < 0 && magnitude != 0 { bytes.append(UInt8(ascii: "-")) }
        appendDigits(magnitude / 10_000)
        var fraction = magnitude % 10_000
        guard fraction != 0 else { return }
        var digits = 4
        while fraction % 10 == 0 { fraction /= 10; digits -= 1 }
        bytes.append(UInt8(ascii: "."))
        appendDigits(fraction, width: digits)
    }

    /// The decimal digits of `value`, with leading zeros up to `width` digits.
    private mutating func appendDigits(_ value: UInt, width: Int = 1) {
        var divisor: UInt = 1
        for _ in 1..<max(1, width) { divisor *= 10 }
        while value / divisor >= 10 { divisor *= 10 }
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
            divisor /= 10
        }
    }

    /// `value` in quotes, escaped; the runs between escapes appended whole (a manifest quotes
    /// every document's id and every detector's key).
    private mutating func appendQuoted(_ value: UnsafeBufferPointer<UInt8>) {
        bytes.append(UInt8(ascii: "\""))
        var run = 0
        for (offset, byte) in value.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == 0x7F {
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: value[run..<offset]))
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(0x5C); bytes.append(byte)
            case 0x0A: bytes.append(0x5C); bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(0x5C); bytes.append(UInt8(ascii: "r"))
            case 0x09: bytes.append(0x5C); bytes.append(UInt8(ascii: "t"))
            default:
                bytes.append(contentsOf: "\\u00".utf8)
                bytes.append(contentsOf: byteHex(byte).utf8)
            }
            run = offset + 1
        }
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: value[run...]))
        bytes.append(UInt8(ascii: "\""))
    }
}
