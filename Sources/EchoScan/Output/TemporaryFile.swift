#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file written under a temporary name in its target's folder, synced, and renamed over the
/// target when complete; discarded (unlinked) if never committed.
final class TemporaryFile {
    let target: String
    let temporary: String
    let descriptor: Int32
    private var open = true

    init(target: String) throws {
        self.target = target
        temporary = target + ".tmp-\(getpid())"
        descriptor = Glibc.open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw AtomicFile.Error(path: target, reason: String(cString: strerror(errno))) }
    }

    func commit() throws {
        guard open else { return }
        open = false
        let synced = fsync(descriptor) == 0 && close(descriptor) == 0
        guard synced, rename(temporary, target) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw AtomicFile.Error(path: target, reason: reason)
        }
    }

    func discard() {
        guard open else { return }
        open = false
        close(descriptor)
        unlink(temporary)
    }

    deinit { discard() }
}
