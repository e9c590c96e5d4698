#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A stream of bytes read in chunks: a file, or a decompressor over one.
///
/// Decompressors are the real alternatives here (zstd, lz4, gzip, none), so they share this protocol;
/// `read(into:)` returns 0 only at the clean end of the stream and throws on corrupt or truncated input.
public protocol ByteSource: AnyObject {
    /// Fills up to `buffer.count` bytes and returns how many were written; 0 means end of stream.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// The raw bytes of a file, read with POSIX `read(2)`, hashed with SHA-256 as they pass when asked.
public final class FileSource: ByteSource {
    public let path: String
    private let descriptor: Int32
    private var hasher: SHA256?
    /// Bytes read from the file so far.
    public private(set) var bytesRead: Int = 0

    public init(path: String, computeSHA256: Bool = false) throws {
        self.path = path
        var status = stat()
        if stat(path, &status) != 0 {
            let code = errno
            throw ShardError(shard: path, kind: code == ENOENT ? .missingFile : .unreadable,
                             reason: String(cString: strerror(code)))
        }
        if (status.st_mode & S_IFMT) == S_IFDIR {
            throw ShardError(shard: path, kind: .unreadable, reason: "is a directory")
        }
        let fd = open(path, O_RDONLY)
        if fd < 0 {
            throw ShardError(shard: path, kind: .unreadable, reason: String(cString: strerror(errno)))
        }
        descriptor = fd
        hasher = computeSHA256 ? SHA256() : nil
    }

    deinit { close(descriptor) }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        while true {
            let n = Glibc.read(descriptor, base, buffer.count)
            if n < 0 {
                if errno == EINTR { continue }
                throw ShardError(shard: path, kind: .unreadable, reason: String(cString: strerror(errno)))
            }
            if n > 0 {
                hasher?.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                bytesRead += n
            }
            return n
        }
    }

    /// The file's size in bytes.
    public func size() throws -> Int {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw ShardError(shard: path, kind: .unreadable, reason: String(cString: strerror(errno)))
        }
        return Int(status.st_size)
    }

    /// Exactly `count` bytes from `offset`, with `pread(2)` (short reads and EINTR retried); a file
    /// that ends before them is truncated. Random access does not move the stream or its hash.
    public func read(at offset: Int, count: Int) throws -> [UInt8] {
        guard count > 0 else { return [] }
        return try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var done = 0
            while done < count {
                let n = pread(descriptor, buffer.baseAddress! + done, count - done, off_t(offset + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ShardError(shard: path, kind: .unreadable, reason: String(cString: strerror(errno)))
                }
                if n == 0 {
                    throw ShardError(shard: path, kind: .truncatedStream, reason: "the file ends at byte \(offset + done), inside \(count) bytes read from \(offset)")
                }
                done += n
            }
            initialized = count
        }
    }

    /// Reads the rest of the stream (hashing it when asked).
    public func drain() throws {
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { chunk.deallocate() }
        while try read(into: chunk) > 0 {}
    }

    /// Counts the file as read without reading it (random access has read what was needed).
    public func skipToEnd() {
        if let size = try? size() { bytesRead = size }
    }

    /// The first `count` bytes of the file (fewer if it is shorter), without consuming them.
    public func peek(count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let got = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, count, 0) }
        bytes.removeSubrange(max(got, 0)...)
        return bytes
    }

    /// The hex SHA-256 of every byte read so far; call after the stream has been read to the end.
    public func sha256Hex() -> String? {
        guard let hasher else { return nil }
        return hasher.finalize().hexString
    }
}

extension Sequence where Element == UInt8 {
    /// Lowercase hexadecimal, two digits per byte (SHA-256 digests in provenance and markers).
    var hexString: String { map { byteHex($0) }.joined() }
}

func byteHex(_ byte: UInt8) -> String {
    let digits: [Character] = Array("0123456789abcdef")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
}

/// Pulls compressed input from a file in fixed chunks for the decompressors.
///
/// Holds the chunk and the read position; a decompressor consumes from `pending` and calls `refill()`.
struct InputWindow {
    let file: FileSource
    private(set) var storage: UnsafeMutableRawBufferPointer
    var start = 0
    var end = 0
    private(set) var reachedEnd = false

    init(file: FileSource, capacity: Int = 1 << 20) {
        self.file = file
        storage = .allocate(byteCount: capacity, alignment: 16)
    }

    func deallocate() { storage.deallocate() }

    var isEmpty: Bool { start == end }

    /// Reads the next chunk when everything before has been consumed; returns false at end of file.
    mutating func refill() throws -> Bool {
        if start < end { return true }
        if reachedEnd { return false }
        let n = try file.read(into: storage)
        start = 0
        end = n
        if n == 0 { reachedEnd = true }
        return n > 0
    }

    /// Makes input available for a decompressor: false at the clean end of the file, an error
    /// when the file ends inside a frame (a truncated stream).
    mutating func ensureInput(frameOpen: Bool, format: String) throws -> Bool {
        if !isEmpty { return true }
        if try refill() { return true }
        if frameOpen {
            throw ShardError(shard: file.path, kind: .truncatedStream,
                             reason: "\(format) stream ends inside a frame after \(file.bytesRead) compressed bytes")
        }
        return false
    }

    /// A decoding error of `format`, placed at the current compressed byte.
    func corrupt(_ format: String, _ message: String) -> ShardError {
        ShardError(shard: file.path, kind: .corruptStream,
                   reason: "\(format): \(message) near compressed byte \(file.bytesRead - pendingCount)")
    }

    var pendingPointer: UnsafeRawPointer { UnsafeRawPointer(storage.baseAddress!) + start }
    var pendingCount: Int { end - start }
}
