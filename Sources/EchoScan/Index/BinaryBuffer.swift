/// Little-endian appends into a byte buffer, for writing index sections.
struct BinaryBuffer {
    var bytes: [UInt8] = []

    mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func append<T: FixedWidthInteger>(contentsOf values: [T]) {
        if T.self == UInt8.self {
            values.withUnsafeBytes { bytes.append(contentsOf: $0) }
            return
        }
        bytes.reserveCapacity(bytes.count + values.count * MemoryLayout<T>.size)
        for value in values { append(value) }
    }

    mutating func align(to boundary: Int) {
        while bytes.count % boundary != 0 { bytes.append(0) }
    }
}
