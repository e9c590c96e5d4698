import ArgumentParser
struct Scan: ParsableCommand {}
struct IndexCommand: ParsableCommand { static let configuration = CommandConfiguration(commandName: "index") }
struct Explain: ParsableCommand {}
