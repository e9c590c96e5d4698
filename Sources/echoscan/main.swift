import ArgumentParser
import EchoScan
#if canImport(Glibc)
import Glibc
#endif

/// Exit statuses, documented in the README: 0 success, 1 audit gate failed, 2 usage error,
/// 3 partial success (some shard could not be read; the others finished).
enum Status {
    static let partial = ExitCode(3)
    static let usage: Int32 = 2
}

struct EchoScanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echoscan",
        abstract: "Find the outputs of commercial language models inside a training corpus.",
        version: EchoScanVersion.current,
        subcommands: [Scan.self, Run.self, Audit.self, Dedup.self, IndexCommand.self, Explain.self, Diff.self, LedgerCommand.self, TaskCommand.self, Cat.self, Stats.self]
    )
}

ProcessMemory.keepFreedMemory()

do {
    var command = try EchoScanCommand.parseAsRoot()
    try command.run()
} catch {
    let code = EchoScanCommand.exitCode(for: error)
    if code == .validationFailure || error is ValidationError {
        FileHandleStream.standardError.write(EchoScanCommand.fullMessage(for: error) + "\n")
        exit(Status.usage)
    }
    EchoScanCommand.exit(withError: error)
}
