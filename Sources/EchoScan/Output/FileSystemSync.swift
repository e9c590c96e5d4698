#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CEchoScanShims

/// Flushes everything written to a file system, in one call instead of one sync per file.
enum FileSystemSync {
    /// Syncs the file systems that hold `paths` (directories or files that exist), each once.
    static func sync(containing paths: [String]) throws {
        var synced: Set<UInt64> = []
        var seen: Set<String> = []
        // A group of tasks names the same marker folder many times: each is opened once.
        for path in paths where seen.insert(path).inserted {
            let descriptor = open(path, O_RDONLY)
            guard descriptor >= 0 else { throw AtomicFile.Error(path: path, reason: String(cString: strerror(errno))) }
            defer { close(descriptor) }
            var status = stat()
            guard fstat(descriptor, &status) == 0 else { throw AtomicFile.Error(path: path, reason: String(cString: strerror(errno))) }
            guard synced.insert(UInt64(status.st_dev)).inserted else { continue }
            guard echoscan_syncfs(descriptor) == 0 else {
                throw AtomicFile.Error(path: path, reason: "cannot sync its file system: " + String(cString: strerror(errno)))
            }
        }
    }
}
