#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CZlib

/// A scratch file could not be written or read (a full disk, a vanished folder).
struct ScratchError: Error, CustomStringConvertible {
    var path: String
    var reason: String
    var description: String { "scratch file \(path): \(reason)" }
}

/// An append-only binary scratch file, buffered, little-endian: the spill space of work that does
/// not fit in memory. Not synced or renamed: a failed run redoes it from the start.
final class ScratchFile {
    let path: String
    private let descriptor: Int32
    private let output: BufferedOutput
    /// Bytes appended so far: the offset of the next append.
    private(set) var count = 0
    /// CRC-32 of the bytes appended so far (when checksummed).
    private(set) var crc: UInt32 = 0
    private let checksummed: Bool
    private var isOpen = true

    /// `checksummed`: keep a CRC-32 of the content (for files that become index sections);
    /// `bufferBytes`: what is gathered before each write.
    init(path: String, checksummed: Bool = true, bufferBytes: Int = 1 << 20) throws {
        self.path = path
        self.checksummed = checksummed
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw ScratchError(path: path, reason: String(cString: strerror(errno))) }
        output = BufferedOutput(descriptor: descriptor, capacity: bufferBytes)
    }

    func write(_ bytes: UnsafeRawBufferPointer) {
        output.write(bytes)
        count += bytes.count
        if checksummed { crc = UInt32(crc32_z(UInt(crc), bytes.baseAddress?.assumingMemoryBound(to: Bytef.self), bytes.count)) }
    }

    func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { write($0) }
    }

    func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { write($0) }
    }

    func append<T: FixedWidthInteger>(contentsOf values: [T]) {
        #if _endian(little)
        values.withUnsafeBytes { write($0) }
        #else
        for value in values { append(value) }
        #endif
    }

    /// Flushes and closes; throws if any write failed.
    func close() throws {
        guard isOpen else { return }
        isOpen = false
        output.flush()
        let closed = Glibc.close(descriptor) == 0
        if let failure = output.failure {
            throw ScratchError(path: path, reason: String(cString: strerror(failure)))
        }
        guard closed else { throw ScratchError(path: path, reason: String(cString: strerror(errno))) }
    }

    deinit {
        if isOpen { Glibc.close(descriptor) }
    }
}

extension MappedFile {
    /// Maps a scratch file written earlier in the same run.
    static func scratch(_ path: String) throws -> MappedFile {
        do { return try MappedFile(path: path) } catch { throw ScratchError(path: path, reason: error.reason) }
    }
}

extension AtomicFile.Sink {
    /// Copies a finished scratch file of `length` bytes into the sink, 1 MiB at a time, so that
    /// the memory of whatever assembles the output does not grow with it.
    func write(contentsOfScratchFile source: String, length: Int) throws {
        let descriptor = open(source, O_RDONLY)
        guard descriptor >= 0 else { throw ScratchError(path: source, reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: min(1 << 20, max(length, 1)))
        var copied = 0
        while copied < length {
            let n = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw ScratchError(path: source, reason: n < 0 ? String(cString: strerror(errno)) : "ended after \(copied) of \(length) bytes")
            }
            try buffer.withUnsafeBytes { try write(raw: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            copied += n
        }
    }
}
