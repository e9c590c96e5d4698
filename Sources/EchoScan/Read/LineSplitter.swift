#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Splits a byte stream into lines from one reusable chunk buffer.
///
/// A line that straddles two chunks is carried in a second buffer, so memory is the chunk plus the
/// longest line. Lines longer than `maximumLineBytes` are not buffered: they are skipped to their
/// newline and reported. A trailing `\r` is removed (CRLF files), and a last line without a newline
/// is still a line.
struct LineSplitter {
    struct Line {
        /// The line without its terminator; valid only during the callback.
        var bytes: UnsafeRawBufferPointer
        /// 1-based line number.
        var number: Int
        /// Byte offset of the line's first byte in the uncompressed stream.
        var offset: Int
        /// Set when the line was longer than the limit: `bytes` is then empty.
        var tooLongBy: Int?
    }

    let source: ByteSource
    let maximumLineBytes: Int
    let chunkBytes: Int

    init(source: ByteSource, maximumLineBytes: Int, chunkBytes: Int = 1 << 20) {
        self.source = source
        self.maximumLineBytes = maximumLineBytes
        self.chunkBytes = chunkBytes
    }

    /// Calls `body` for every line; returns the number of uncompressed bytes read.
    func forEachLine(_ body: (Line) throws -> Void) throws -> Int {
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkBytes, alignment: 16)
        defer { chunk.deallocate() }
        var carry: [UInt8] = []
        var carryOverflow = 0  // bytes of an over-long line dropped so far
        var lineNumber = 1
        var lineOffset = 0
        var streamOffset = 0

        func emit(_ bytes: UnsafeRawBufferPointer) throws {
            var count = bytes.count
            if count > 0, bytes[count - 1] == 0x0D { count -= 1 }
            let line = Line(bytes: UnsafeRawBufferPointer(rebasing: bytes[0..<count]), number: lineNumber, offset: lineOffset, tooLongBy: nil)
            try body(line)
        }

        func emitOverlong() throws {
            try body(Line(bytes: UnsafeRawBufferPointer(start: nil, count: 0), number: lineNumber, offset: lineOffset, tooLongBy: carryOverflow))
            carryOverflow = 0
        }

        while true {
            let filled = try source.read(into: chunk)
            if filled == 0 { break }
            guard let base = chunk.baseAddress else { break }
            var position = 0
            while position < filled {
                let remaining = filled - position
                let found = memchr(base + position, 0x0A, remaining)
                let stop = found.map { UnsafeRawPointer($0) - UnsafeRawPointer(base) } ?? filled
                let piece = UnsafeRawBufferPointer(start: base + position, count: stop - position)
                if carryOverflow > 0 || carry.count + piece.count > maximumLineBytes {
                    carryOverflow += carry.count + piece.count
                    carry.removeAll(keepingCapacity: false)
                } else if found == nil || !carry.isEmpty {
                    carry.append(contentsOf: piece)
                }
                guard found != nil else { break }
                // A complete line ends at `stop`.
                if carryOverflow > 0 {
                    try emitOverlong()
                } else if carry.isEmpty {
                    try emit(piece)
                } else {
                    try carry.withUnsafeBytes { try emit($0) }
                    carry.removeAll(keepingCapacity: true)
                }
                let consumed = stop + 1 - position
                lineNumber += 1
                lineOffset = streamOffset + position + consumed
                position = stop + 1
            }
            streamOffset += filled
        }
        if carryOverflow > 0 {
            try emitOverlong()
        } else if !carry.isEmpty {
            try carry.withUnsafeBytes { try emit($0) }
        }
        return streamOffset
    }
}
