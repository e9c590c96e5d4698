import ArgumentParser
struct Scan: ParsableCommand {}
struct Explain: ParsableCommand {}
