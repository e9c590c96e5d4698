import ArgumentParser
struct Explain: ParsableCommand {}
