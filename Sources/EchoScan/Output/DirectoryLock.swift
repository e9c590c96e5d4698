#if canImport(Glibc)
import Foundation
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An advisory lock on an output directory (`flock` on `DIR/.echoscan.lock`), held for the life
/// of the process: a second run on the same directory stops at once instead of interleaving
/// its files with the first. The kernel releases it when the holder exits, even by `kill -9`.
public final class DirectoryLock {
    /// Another run holds the directory's lock.
    public struct Busy: Error, CustomStringConvertible {
        public var directory: String
        public var holder: String
        public var description: String {
            "\(directory) is in use by another echoscan run (\(holder)); wait for it to finish or use another output directory"
        }
    }

    private let descriptor: Int32

    public init(directory: String) throws {
        let path = directory + "/.echoscan.lock"
        descriptor = open(path, O_RDWR | O_CREAT, 0o644)
        guard descriptor >= 0 else { throw AtomicFile.Error(path: path, reason: String(cString: strerror(errno))) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            var buffer = [UInt8](repeating: 0, count: 64)
            let count = pread(descriptor, &buffer, buffer.count, 0)
            close(descriptor)
            let holder = String(decoding: buffer.prefix(max(count, 0)), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw Busy(directory: directory, holder: holder.isEmpty ? "unknown process" : holder)
        }
        let note = Array("pid \(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = pwrite(descriptor, note, note.count, 0)
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
