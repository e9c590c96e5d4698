/// Reads little-endian integers, varints and byte runs from a buffer, every read checked against
/// its end: the one place where Parquet pages are read through a pointer.
struct ByteCursor {
    struct OutOfBounds: Error, CustomStringConvertible {
        var reason: String
        var description: String { reason }
    }

    let bytes: UnsafeRawBufferPointer
    private(set) var position = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    var remaining: Int { bytes.count - position }
    var isAtEnd: Bool { position >= bytes.count }

    func fail(_ what: String) -> OutOfBounds {
        OutOfBounds(reason: "\(what) at page byte \(position) of \(bytes.count)")
    }

    mutating func byte() throws -> UInt8 {
        guard position < bytes.count else { throw fail("unexpected end of page") }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func take(_ count: Int) throws -> UnsafeRawBufferPointer {
        guard count >= 0, count <= remaining else { throw fail("a run of \(count) bytes past the end") }
        defer { position += count }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<(position + count)])
    }

    /// An unsigned little-endian integer of `width` bytes (at most 8).
    mutating func littleEndian(width: Int) throws -> UInt64 {
        let run = try take(width)
        var value: UInt64 = 0
        for (shift, byte) in run.enumerated() { value |= UInt64(byte) << (8 * shift) }
        return value
    }

    mutating func varint() throws -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let next = try byte()
            value |= UInt64(next & 0x7F) << shift
            if next & 0x80 == 0 { return value }
            shift += 7
            guard shift < 64 else { throw fail("a varint longer than 64 bits") }
        }
    }

    mutating func zigzag() throws -> Int64 {
        let raw = try varint()
        return Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)
    }

    /// Appends `count` values of `width` bits, packed from the least significant bit (Parquet's
    /// bit-packing of levels, dictionary indices and delta miniblocks).
    mutating func unpack(count: Int, width: Int, into values: inout [UInt64]) throws {
        guard width > 0 else {
            values.append(contentsOf: repeatElement(0, count: count))
            return
        }
        let packed = try take((count * width + 7) / 8)
        var accumulator: UInt64 = 0
        var held = 0
        var next = 0
        let mask: UInt64 = width == 64 ? ~0 : (1 << UInt64(width)) - 1
        for _ in 0..<count {
            var value: UInt64
            if held >= width {
                value = accumulator & mask
                accumulator = width == 64 ? 0 : accumulator >> UInt64(width)
                held -= width
            } else {
                value = accumulator
                var got = held
                while got < width {
                    let byte = UInt64(packed[next])
                    next += 1
                    value |= byte << UInt64(got)
                    got += 8
                    // Bits of this byte beyond the value stay for the next one.
                    if got > width {
                        let spare = got - width
                        accumulator = byte >> UInt64(8 - spare)
                        held = spare
                    } else {
                        accumulator = 0
                        held = 0
                    }
                }
                value &= mask
            }
            values.append(value)
        }
    }
}
