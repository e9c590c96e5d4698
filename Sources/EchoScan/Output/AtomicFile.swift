#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a file so that readers see either the old file or the complete new one (see
/// `TemporaryFile`). A failure (a full disk, a kill) leaves no partial file under the target's name.
public enum AtomicFile {
    /// A file that could not be written, and why.
    public struct Error: Swift.Error, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var description: String { "cannot write \(path): \(reason)" }
    }

    /// Receives the content; each `write` goes straight to the temporary file.
    public final class Sink {
        let descriptor: Int32
        let path: String
        public private(set) var bytesWritten = 0
        /// When set, every byte written from then on is hashed into it.
        var digest: SHA256?

        init(descriptor: Int32, path: String) {
            self.descriptor = descriptor
            self.path = path
        }

        public func write<C: Collection>(_ bytes: C) throws where C.Element == UInt8 {
            try bytes.withContiguousStorageIfAvailable { try write(raw: UnsafeRawBufferPointer($0)) }
                ?? Array(bytes).withUnsafeBytes { try write(raw: $0) }
        }

        func write(raw: UnsafeRawBufferPointer) throws {
            var offset = 0
            while offset < raw.count, let base = raw.baseAddress {
                let n = Glibc.write(descriptor, base + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw Error(path: path, reason: String(cString: strerror(errno)))
                }
                offset += n
            }
            digest?.update(bufferPointer: raw)
            bytesWritten += raw.count
        }

        /// Replaces bytes already written (a count in a header, known only at the end).
        func overwrite(_ bytes: [UInt8], at offset: Int) throws {
            precondition(offset + bytes.count <= bytesWritten, "overwrite past the end of what was written")
            let written = bytes.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, off_t(offset)) }
            guard written == bytes.count else { throw Error(path: path, reason: String(cString: strerror(errno))) }
        }
    }

    /// Writes `path` atomically with the content that `body` produces; returns the bytes written.
    /// `durable: false` leaves the sync to disk to the caller (see `TemporaryFile.commit(durable:)`).
    @discardableResult
    public static func write(to path: String, durable: Bool = true, _ body: (Sink) throws -> Void) throws -> Int {
        let file = try TemporaryFile(target: path)
        let sink = Sink(descriptor: file.descriptor, path: path)
        do {
            try body(sink)
        } catch {
            file.discard()
            throw error
        }
        try file.commit(durable: durable)
        return sink.bytesWritten
    }

    /// Writes `bytes` to `path` atomically.
    public static func write(_ bytes: [UInt8], to path: String, durable: Bool = true) throws {
        try write(to: path, durable: durable) { try $0.write(bytes) }
    }
}
