import Foundation

/// Writes stage completion markers off the workers' path, in groups: one file-system sync covers
/// every task that finished since the last one, then their markers are written. A marker is
/// never written before its task's files are on disk, and the syncs (a few milliseconds each)
/// overlap the next tasks' work instead of adding to it.
final class MarkerCommitter: @unchecked Sendable {
    private let queue = DispatchQueue(label: "echoscan.stage-markers")
    private let lock = NSLock()
    private var pending: [(stage: Stage, task: Int)] = []
    private var failure: Error?

    /// Queues the marker of a finished task.
    func commit(_ stage: Stage, task: Int) {
        lock.withLock { pending.append((stage, task)) }
        queue.async { self.drain() }
    }

    private func drain() {
        let batch = lock.withLock {
            defer { pending.removeAll() }
            return pending
        }
        guard !batch.isEmpty else { return }
        do {
            try FileSystemSync.sync(containing: batch.map(\.stage.markerDirectory))
            for (stage, task) in batch { try stage.writeMarker(task: task) }
        } catch {
            lock.withLock { failure = failure ?? error }
        }
    }

    /// Waits for the queued markers; throws the first error met.
    func finish() throws {
        queue.sync {}
        if let failure = lock.withLock({ failure }) { throw failure }
    }
}
