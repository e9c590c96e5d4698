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
        // A scratch file: no rename or sync needed, a failed task redoes it.
        do {
            try Data(bytes.bytes).write(to: URL(fileURLWithPath: path))
        } catch {
            throw StageError(stage: "sort", task: -1, reason: "\(path): \(error.localizedDescription)")
        }
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
        // A k-way merge over a binary min-heap of the runs' heads.
        var heap: [(entry: Entry, run: Int)] = files.indices.compactMap { run in entry(run).map { ($0, run) } }
        func less(_ a: Int, _ b: Int) -> Bool {
            (heap[a].entry.key, heap[a].entry.value, heap[a].run) < (heap[b].entry.key, heap[b].entry.value, heap[b].run)
        }
        func siftDown(_ start: Int) {
            var parent = start
            while true {
                var smallest = parent
                for child in [2 * parent + 1, 2 * parent + 2] where child < heap.count && less(child, smallest) { smallest = child }
                if smallest == parent { return }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
        for index in stride(from: heap.count / 2, through: 0, by: -1) { siftDown(index) }
        while let top = heap.first {
            try body(top.entry)
            cursors[top.run] += 1
            if let next = entry(top.run) {
                heap[0] = (next, top.run)
            } else {
                heap[0] = heap[heap.count - 1]
                heap.removeLast()
            }
            if !heap.isEmpty { siftDown(0) }
        }
    }
}
