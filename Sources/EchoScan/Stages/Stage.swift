import Foundation

/// One stage of a pipeline: a number of independent tasks, each leaving a completion marker.
///
/// Stages run in order; the tasks of a stage run in any order and in any process (a local
/// worker pool, a Slurm array task), because they communicate only through files. A task whose
/// marker exists with the same configuration fingerprint is skipped on a rerun.
public struct Stage: Sendable {
    /// The stages a pipeline is made of, in the order they run (`echoscan task --stage`).
    public enum Name: String, CaseIterable, Sendable, CustomStringConvertible {
        /// Dedup: each shard's MinHash signatures and band keys.
        case signatures
        /// Dedup: candidate pairs, one task per group of LSH bands.
        case buckets
        /// Dedup: verified pairs joined into clusters.
        case clusters
        /// Dedup: each shard's removed duplicates.
        case decisions
        /// Scan: one task per shard (or run of Parquet row groups).
        case scan
        /// Scan: manifest.jsonl, attribute files and summary.json from the shards' parts.
        case merge
        /// Dedup's summary, unique counts, report and metrics.
        case finish

        public var description: String { rawValue }
    }

    public let name: Name
    public let taskCount: Int
    /// Where the stage's completion markers live.
    public let markerDirectory: String
    /// Fingerprint of everything that decides a task's output; a marker with another one is stale.
    public let fingerprint: @Sendable (Int) -> String
    /// False when one task already keeps every worker busy with `Parallel.map` (the dedup
    /// cluster stage verifies its pairs on all threads; Dispatch runs a `concurrentPerform`
    /// nested in another one serially): the local executor then runs the tasks one after the other.
    public var runsTasksConcurrently = true
    /// Run tasks even when their marker says they are done (a forced rerun); their markers are
    /// written as usual.
    public var rerunsDoneTasks = false
    let body: @Sendable (Int) throws -> Void

    public init(name: Name, taskCount: Int, markerDirectory: String, fingerprint: @escaping @Sendable (Int) -> String,
                body: @escaping @Sendable (Int) throws -> Void) {
        self.name = name
        self.taskCount = taskCount
        self.markerDirectory = markerDirectory
        self.fingerprint = fingerprint
        self.body = body
    }

    /// A stage whose tasks all share one fingerprint.
    public init(name: Name, taskCount: Int, markerDirectory: String, fingerprint: String, body: @escaping @Sendable (Int) throws -> Void) {
        self.init(name: name, taskCount: taskCount, markerDirectory: markerDirectory, fingerprint: { _ in fingerprint }, body: body)
    }

    public func markerPath(_ task: Int) -> String { markerDirectory + "/" + String(format: "%06d", task) + ".done" }

    /// The tasks a run must do: those not done, or all of them for a forced rerun.
    var pendingTasks: [Int] { (0..<taskCount).filter { rerunsDoneTasks || !isDone($0) } }

    public func isDone(_ task: Int) -> Bool {
        guard let data = FileManager.default.contents(atPath: markerPath(task)) else { return false }
        return String(decoding: data, as: UTF8.self) == fingerprint(task)
    }

    /// Runs one task and leaves its marker (skipping it when already done).
    /// Returns false when the task was skipped.
    ///
    /// Tasks write their files without syncing each (`durable: false`); the file system is synced
    /// once, before the marker is written, so that a marker that survives a crash of the machine
    /// vouches for files that did too. A lost marker only means the task runs again.
    @discardableResult
    public func run(task: Int) throws -> Bool {
        guard try runBody(task: task) else { return false }
        try FileSystemSync.sync(containing: [markerDirectory])
        try writeMarker(task: task)
        return true
    }

    /// Runs one task without leaving its marker (see `MarkerCommitter`); false when it was done.
    func runBody(task: Int) throws -> Bool {
        guard task >= 0 && task < taskCount else {
            throw StageError(stage: name, task: task, reason: "task out of range 0..<\(taskCount)")
        }
        if !rerunsDoneTasks && isDone(task) { return false }
        try FileManager.default.createDirectory(atPath: markerDirectory, withIntermediateDirectories: true)
        do {
            try body(task)
        } catch let error as StageError {
            throw error
        } catch {
            // A `StageFileError` names the file; the stage and task are added here.
            throw StageError(stage: name, task: task, reason: "\(error)")
        }
        return true
    }

    /// Writes the task's marker; only once its files are on disk.
    func writeMarker(task: Int) throws {
        try AtomicFile.write(Array(fingerprint(task).utf8), to: markerPath(task), durable: false)
    }
}

/// A task that failed: its stage, its number and why.
public struct StageError: Error, CustomStringConvertible {
    public var stage: Stage.Name
    public var task: Int
    public var reason: String
    public var description: String { "stage \(stage), task \(task): \(reason)" }
}

/// Runs stages, one after the other. The alternatives are real: this process's worker pool, or
/// a cluster scheduler (see `SlurmExecutor`).
public protocol StageExecutor {
    func run(_ stages: [Stage]) throws
}

/// Runs every unfinished task of each stage on this machine, `threads` at a time (one at a time
/// for a stage whose tasks use every thread themselves).
public struct LocalExecutor: StageExecutor {
    public let threads: Int
    public var log: (@Sendable (String) -> Void)?

    public init(threads: Int, log: (@Sendable (String) -> Void)? = nil) {
        self.threads = threads
        self.log = log
    }

    public func run(_ stages: [Stage]) throws {
        // Finished tasks' markers are written in the background, after a sync that covers every
        // task finished meanwhile, while the workers go on; a failure still leaves the markers
        // of the tasks that finished.
        let markers = MarkerCommitter()
        do {
            try run(stages, markers: markers)
        } catch {
            try? markers.finish()
            throw error
        }
        try markers.finish()
    }

    private func run(_ stages: [Stage], markers: MarkerCommitter) throws {
        for stage in stages {
            let pending = stage.pendingTasks
            if pending.count < stage.taskCount {
                log?("\(stage.name): \(stage.taskCount - pending.count) of \(stage.taskCount) tasks already done, skipped")
            }
            @Sendable func attempt(_ task: Int) -> StageError? {
                do {
                    if try stage.runBody(task: task) { markers.commit(stage, task: task) }
                    return nil
                } catch let error as StageError {
                    return error
                } catch {
                    return StageError(stage: stage.name, task: task, reason: "\(error)")
                }
            }
            // Tasks that use every thread run in a plain loop: libdispatch runs a concurrentPerform
            // nested in another one serially, which would leave their workers idle.
            let failures = stage.runsTasksConcurrently
                ? Parallel.map(count: pending.count, threads: threads, makeState: {}) { _, position in attempt(pending[position]) }.compactMap { $0 }
                : pending.compactMap(attempt)
            if let first = failures.first { throw first }
        }
    }
}

/// A file that one stage writes and a later one reads is missing, truncated or not of its kind.
struct StageFileError: Error, CustomStringConvertible {
    var path: String
    var reason: String
    var description: String { "\(path): \(reason)" }
}

extension MappedFile {
    /// Maps a file that a stage task reads, failing with a `StageFileError` that names it.
    static func forStage(_ path: String) throws -> MappedFile {
        do {
            return try MappedFile(path: path)
        } catch {
            throw StageFileError(path: path, reason: error.reason)
        }
    }
}
