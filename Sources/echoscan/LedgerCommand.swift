import ArgumentParser
import EchoScan
import Foundation

struct LedgerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger", abstract: "List every shard scanned into an output directory (DIR/ledger.sqlite).")

    @Argument(help: "The output directory of a scan or run.")
    var directory: String

    @Flag(help: "Print one JSON object per scan.")
    var json = false

    func run() throws {
        guard FileManager.default.fileExists(atPath: directory + "/ledger.sqlite") else {
            throw CommandError("\(directory) has no ledger.sqlite (nothing was scanned there)")
        }
        let entries = try Ledger(directory: directory, readOnly: true).entries()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            for entry in entries { print(String(decoding: try encoder.encode(entry), as: UTF8.self)) }
            return
        }
        func cell(_ text: String, _ width: Int) -> String { text.padding(toLength: width, withPad: " ", startingAt: 0) + " " }
        print(cell("finished", 24) + cell("status", 8) + cell("docs", 8) + cell("flagged", 8) + cell("seconds", 8)
              + cell("index", 12) + cell("pipeline", 12) + cell("sha256", 12) + "shard")
        for entry in entries {
            print(cell(entry.finishedAt, 24) + cell(entry.status.rawValue, 8) + cell("\(entry.documents)", 8) + cell("\(entry.flagged)", 8)
                  + cell(String(format: "%.2f", entry.seconds), 8) + cell(String(entry.indexSHA256.prefix(12)), 12)
                  + cell(String(entry.pipelineSHA256.prefix(12)), 12) + cell(String((entry.sha256 ?? "-").prefix(12)), 12) + entry.path)
            if let error = entry.error { print("    error: \(error)") }
        }
    }
}
