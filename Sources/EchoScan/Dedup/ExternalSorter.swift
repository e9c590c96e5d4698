import Foundation

/// Sorts (key, value) pairs of 64-bit integers with bounded memory: pairs are sorted in memory
/// runs of at most `runEntries`, spilled to files, and merged while being read back.
struct ExternalSorter {
    typealias Entry = (key: UInt64, value: UInt64)

    let directory: String
    let runEntries: Int
    private var buffer: [Entry] = []
    private var runs: [String] = []

    init(directory: String, runEntries: Int) {
        self.directory = directory
        self.runEntries = max(1, runEntries)
    }

    mutating func append(_ key: UInt64, _ value: UInt64) throws {
        buffer.append((key, value))
        if buffer.count >= runEntries { try spill() }
    }

    private mutating func spill() throws {
        buffer.sort { $0.key != $1.key ? $0.key < $1.key : $0.value < $1.value }
        var bytes = BinaryBuffer()
        for entry in buffer { bytes.append(entry.key); bytes.append(entry.value) }
        let path = directory + "/run-\(runs.count).bin"
        try AtomicFile.write(bytes.bytes, to: path)
        runs.append(path)
        buffer.removeAll(keepingCapacity: true)
    }

    /// Calls `body` with every entry in (key, value) order, then deletes the run files.
    mutating func forEachSorted(_ body: (Entry) throws -> Void) throws {
        if runs.isEmpty {
            buffer.sort { $0.key != $1.key ? $0.key < $1.key : $0.value < $1.value }
            for entry in buffer { try body(entry) }
            buffer = []
            return
        }
        if !buffer.isEmpty { try spill() }
        buffer = []
        defer { for run in runs { unlink(run) } }
        let files = try runs.map { try MappedFile.forStage($0, stage: "sort", task: -1) }
        var cursors = [Int](repeating: 0, count: files.count)
        func entry(_ run: Int) -> Entry? {
            let offset = cursors[run] * 16
            guard offset < files[run].bytes.count else { return nil }
            return (files[run].bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self).littleEndian,
                    files[run].bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self).littleEndian)
        }
        // A k-way merge; runs are few (the corpus size over the run size), so a linear scan for
        // the smallest head is as fast as a heap and simpler.
        while true {
            var best: (run: Int, entry: Entry)? = nil
            for run in files.indices {
                guard let head = entry(run) else { continue }
                if let current = best, (current.entry.key, current.entry.value) <= (head.key, head.value) { continue }
                best = (run, head)
            }
            guard let (run, head) = best else { break }
            try body(head)
            cursors[run] += 1
        }
    }
}
