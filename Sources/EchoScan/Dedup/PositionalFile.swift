#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A stage's input file read at offsets with `pread`, not mapped: tasks that read records all
/// over a corpus keep only what they copy out in their resident set. Reads are exact; a short one
/// is an error that names the file.
final class PositionalFile: Sendable {
    let path: String
    let size: Int
    private let descriptor: Int32

    init(path: String) throws {
        self.path = path
        descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw StageFileError(path: path, reason: String(cString: strerror(errno))) }
        var status = stat()
        size = fstat(descriptor, &status) == 0 ? Int(status.st_size) : 0
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// Fills `buffer` from `offset`.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws {
        var done = 0
        while done < buffer.count, let base = buffer.baseAddress {
            let got = pread(descriptor, base + done, buffer.count - done, off_t(offset + done))
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else {
                throw StageFileError(path: path, reason: "cannot read \(buffer.count) bytes at \(offset)")
            }
            done += got
        }
    }

    func read(_ length: Int, at offset: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: length)
        try bytes.withUnsafeMutableBytes { try read(into: $0, at: offset) }
        return bytes
    }
}

extension PositionalFile {
    /// The first `length` bytes, which must begin with `magic`: a stage file's header. `kind`
    /// names the file in the error ("signature file").
    func header(_ length: Int, magic: [UInt8], kind: String) throws -> [UInt8] {
        let header = try read(min(size, length), at: 0)
        guard header.count == length, Array(header.prefix(magic.count)) == magic else {
            throw StageFileError(path: path, reason: "not a \(kind)")
        }
        return header
    }
}

extension Array where Element == UInt8 {
    /// The little-endian integer at `offset`.
    func littleEndian<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) -> T {
        withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
    }
}
