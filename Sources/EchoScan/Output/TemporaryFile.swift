#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file written under a temporary name in its target's folder, synced, and renamed over the
/// target when complete; discarded (unlinked) if never committed.
///
/// A killed process leaves the old file or the new one whatever `durable` says; syncing matters
/// only when the machine itself goes down.
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

    /// `durable`: sync the content to disk before the rename. Pass false only where the caller
    /// syncs the file system itself before anything relies on the file (a stage task: see
    /// `Stage.run(task:)`); each sync is a disk flush of 2–5 ms here, and a dedup wrote over a hundred files.
    func commit(durable: Bool = true) throws {
        guard open else { return }
        open = false
        let synced = (!durable || fsync(descriptor) == 0) && close(descriptor) == 0
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
