import Foundation

/// Runs stages on a Slurm cluster: one sbatch job array per stage, each depending on the one
/// before (`afterok`, with `--kill-on-invalid-dep` so that a failure cancels the rest instead of
/// leaving them pending forever). Array task I runs `echoscan task --stage S --task I --of N`,
/// i.e. every stage task t with t mod N = I that has no completion marker; a rerun submits only
/// the array indices that still have unfinished tasks.
public struct SlurmExecutor: StageExecutor {
    /// The echoscan binary the array tasks run, the pipeline file and output directory they get.
    public var binary: String
    public var pipeline: String
    public var output: String
    public var workingDirectory: String
    /// At most this many array tasks per stage (default: one per stage task).
    public var tasks: Int?
    public var partition: String?
    /// Wait for the jobs and check how they ended (otherwise return after submitting).
    public var wait = true
    public var pollInterval: Double = 1
    public var log: @Sendable (String) -> Void

    /// A Slurm job or array task that failed, with the path of its log.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public init(binary: String, pipeline: String, output: String, workingDirectory: String, log: @escaping @Sendable (String) -> Void) {
        self.binary = binary
        self.pipeline = pipeline
        self.output = output
        self.workingDirectory = workingDirectory
        self.log = log
    }

    /// Submits the stages' unfinished tasks (the job ids are logged), then waits unless `wait` is off.
    public func run(_ stages: [Stage]) throws {
        let folder = output + "/slurm"
        try FileManager.default.createDirectory(atPath: folder + "/logs", withIntermediateDirectories: true)
        var submitted: [(stage: Stage.Name, job: String)] = []
        var previous: String? = nil
        for stage in stages {
            let pending = stage.pendingTasks
            guard !pending.isEmpty else {
                log("\(stage.name): all \(stage.taskCount) tasks done, not submitted")
                continue
            }
            let groups = min(tasks ?? stage.taskCount, stage.taskCount)
            let indices = Array(Set(pending.map { $0 % groups })).sorted()
            let script = folder + "/\(stage.name).sbatch"
            let logPattern = folder + "/logs/\(stage.name)-%A_%a.log"
            var lines = ["#!/bin/bash",
                         "#SBATCH --job-name=echoscan-\(stage.name)",
                         "#SBATCH --output=\(logPattern)",
                         "#SBATCH --array=\(indices.map(String.init).joined(separator: ","))",
                         "#SBATCH --chdir=\(workingDirectory)",
                         "#SBATCH --kill-on-invalid-dep=yes"]
            if let partition { lines.append("#SBATCH --partition=\(partition)") }
            if let previous { lines.append("#SBATCH --dependency=afterok:\(previous)") }
            lines.append("exec \(Self.quote(binary)) task --stage \(stage.name) --task \"$SLURM_ARRAY_TASK_ID\" --of \(groups) "
                         + "--output \(Self.quote(output)) \(Self.quote(pipeline))")
            try AtomicFile.write(Array((lines.joined(separator: "\n") + "\n").utf8), to: script)
            let job = try Self.command("sbatch", ["--parsable", script]).trimmingCharacters(in: .whitespacesAndNewlines)
            guard let id = job.split(separator: ";").first.map(String.init), !id.isEmpty else {
                throw Failure(description: "sbatch gave no job id for stage \(stage.name)")
            }
            log("\(stage.name): submitted job array \(id) with \(indices.count) tasks (\(pending.count) of \(stage.taskCount) stage tasks)")
            submitted.append((stage.name, id))
            previous = id
        }
        guard wait else { return }
        for (position, (stage, job)) in submitted.enumerated() {
            do {
                try waitFor(job: job, stage: stage, logs: folder + "/logs")
            } catch {
                // Dependants would be cancelled by Slurm (afterok can never be met); cancel
                // them now so that nothing is left waiting in the queue.
                let rest = submitted.dropFirst(position + 1).map(\.job)
                if !rest.isEmpty { _ = try? Self.command("scancel", rest) }
                throw error
            }
        }
    }

    /// Polls until the array has left the queue, then checks every task's final state.
    func waitFor(job: String, stage: Stage.Name, logs: String) throws {
        while true {
            let queued = (try? Self.command("squeue", ["-h", "-j", job, "-o", "%i %T"])) ?? ""
            if queued.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { break }
            Thread.sleep(forTimeInterval: pollInterval)
        }
        let states = try Self.command("scontrol", ["show", "job", "-o", job])
        var failed: [String] = []
        for record in states.split(separator: "\n") {
            let fields = Dictionary(record.split(separator: " ").compactMap { field -> (String, String)? in
                guard let equals = field.firstIndex(of: "=") else { return nil }
                return (String(field[..<equals]), String(field[field.index(after: equals)...]))
            }, uniquingKeysWith: { first, _ in first })
            let state = fields["JobState"] ?? "UNKNOWN"
            if state != "COMPLETED" {
                let task = fields["ArrayTaskId"] ?? "?"
                failed.append("task \(task) \(state) (log \(logs)/\(stage)-\(job)_\(task).log)")
            }
        }
        if !failed.isEmpty {
            throw Failure(description: "stage \(stage) (job \(job)) failed: " + failed.joined(separator: "; "))
        }
        log("\(stage): job \(job) completed")
    }

    static func quote(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    @discardableResult
    package static func command(_ name: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [name] + arguments
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let (data, message) = ChildOutput.read(output: output, error: error)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "\(name) \(arguments.joined(separator: " ")) failed: \(String(decoding: message, as: UTF8.self))")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
