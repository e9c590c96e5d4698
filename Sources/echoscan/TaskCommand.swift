import ArgumentParser
import EchoScan
import Foundation

struct TaskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "task",
        abstract: "Run one unit of a pipeline stage: the work a Slurm array task or a Kubernetes Indexed Job pod does.",
        discussion: """
            Runs every task t of the stage with t mod N = I that has no completion marker. I defaults to \
            SLURM_ARRAY_TASK_ID, then JOB_COMPLETION_INDEX; N to SLURM_ARRAY_TASK_COUNT, then 1 task per index.
            """)

    @Option(help: "The stage.")
    var stage: Stage.Name

    @Option(help: "This worker's index I (default: $SLURM_ARRAY_TASK_ID or $JOB_COMPLETION_INDEX).")
    var task: Int?

    @Option(help: "How many workers share the stage, N (default: $SLURM_ARRAY_TASK_COUNT, else each worker runs task I only).")
    var of: Int?

    @Option(name: .shortAndLong, help: "Output directory (overrides the pipeline's output:).")
    var output: String?

    @Argument(help: "The pipeline file.")
    var pipeline: String

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let index = task ?? environment["SLURM_ARRAY_TASK_ID"].flatMap(Int.init) ?? environment["JOB_COMPLETION_INDEX"].flatMap(Int.init) else {
            throw ValidationError("no task index: pass --task or run inside a Slurm array or an Indexed Job")
        }
        let configuration = try loadPipeline(pipeline)
        let runner = try PipelineRunner(configuration: configuration, output: output, log: { log($0) })
        guard let found = try runner.stages(only: stage).first else {
            throw ValidationError("the pipeline has no stage \(stage)")
        }
        let workers = of ?? environment["SLURM_ARRAY_TASK_COUNT"].flatMap(Int.init) ?? 0
        let mine = workers > 0 ? Array(stride(from: index, to: found.taskCount, by: workers)) : [index]
        for unit in mine {
            let ran = try found.run(task: unit)
            log("\(stage) task \(unit) of \(found.taskCount): \(ran ? "done" : "already done, skipped")")
        }
    }
}

extension Stage.Name: ExpressibleByArgument {}
