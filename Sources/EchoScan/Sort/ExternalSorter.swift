#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Sorts (key, value) pairs of 64-bit integers with bounded memory: pairs are sorted in memory
/// runs of at most `runEntries`, spilled to files, and merged while being read back.
struct ExternalSorter {
    typealias Entry = (key: UInt64, value: UInt64)

    let directory: String
    /// Prefix of the run files, so that several sorters can share one scratch folder.
    let name: String
    let runEntries: Int
    private var buffer: [Entry] = []
    private var runs: [String] = []

    init(directory: String, name: String = "run", runEntries: Int) {
        self.directory = directory
        self.name = name
        self.runEntries = max(1, runEntries)
    }

    mutating func append(_ key: UInt64, _ value: UInt64) throws {
        buffer.append((key, value))
        if buffer.count >= runEntries { try spill() }
    }

    private mutating func sortBuffer() {
        buffer.sort { $0.key != $1.key ? $0.key < $1.key : $0.value < $1.value }
    }

    private mutating func spill() throws {
        sortBuffer()
        let path = directory + "/\(name)-\(runs.count).bin"
        // A scratch file: no rename or sync needed, a failed task redoes it.
        let file = try ScratchFile(path: path)
        #if _endian(little)
        buffer.withUnsafeBytes { file.write(UnsafeRawBufferPointer($0)) }
        #else
        for entry in buffer { file.append(entry.key); file.append(entry.value) }
        #endif
        try file.close()
        runs.append(path)
        buffer.removeAll(keepingCapacity: true)
    }

    /// Every entry in (key, value) order; the sorter is left empty. Run files are deleted when
    /// the returned sequence is released.
    mutating func sorted() throws -> SortedEntries {
        if runs.isEmpty {
            sortBuffer()
            defer { buffer = [] }
            return SortedEntries(entries: buffer)
        }
        if !buffer.isEmpty { try spill() }
        buffer = []
        defer { runs = [] }
        return try SortedEntries(runs: runs)
    }

    /// Calls `body` with every entry in (key, value) order.
    mutating func forEachSorted(_ body: (Entry) throws -> Void) throws {
        let entries = try sorted()
        while let entry = entries.next() { try body(entry) }
    }
}

/// The merged output of an `ExternalSorter`: a k-way merge over a binary min-heap of the runs'
/// heads, or the in-memory run when nothing was spilled.
final class SortedEntries {
    typealias Entry = ExternalSorter.Entry

    private var entries: [Entry]
    private var position = 0
    private let files: [MappedFile]
    private var cursors: [Int]
    private var heap: [(entry: Entry, run: Int)] = []

    init(entries: [Entry]) {
        self.entries = entries
        files = []
        cursors = []
    }

    init(runs: [String]) throws {
        entries = []
        files = try runs.map { try MappedFile.scratch($0) }
        cursors = [Int](repeating: 0, count: files.count)
        heap = files.indices.compactMap { run in entry(run).map { ($0, run) } }
        for index in stride(from: heap.count / 2, through: 0, by: -1) { siftDown(index) }
    }

    deinit {
        for file in files { unlink(file.path) }
    }

    /// The next entry in order, or nil at the end.
    func next() -> Entry? {
        if files.isEmpty {
            guard position < entries.count else { return nil }
            position += 1
            return entries[position - 1]
        }
        guard let top = heap.first else { return nil }
        cursors[top.run] += 1
        if let following = entry(top.run) {
            heap[0] = (following, top.run)
        } else {
            heap[0] = heap[heap.count - 1]
            heap.removeLast()
        }
        if !heap.isEmpty { siftDown(0) }
        return top.entry
    }

    private func entry(_ run: Int) -> Entry? {
        let offset = cursors[run] * 16
        let bytes = files[run].bytes
        guard offset + 16 <= bytes.count else { return nil }
        return (bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self).littleEndian,
                bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self).littleEndian)
    }

    private func less(_ a: Int, _ b: Int) -> Bool {
        (heap[a].entry.key, heap[a].entry.value, heap[a].run) < (heap[b].entry.key, heap[b].entry.value, heap[b].run)
    }

    private func siftDown(_ start: Int) {
        var parent = start
        while true {
            var smallest = parent
            let left = 2 * parent + 1
            if left < heap.count, less(left, smallest) { smallest = left }
            if left + 1 < heap.count, less(left + 1, smallest) { smallest = left + 1 }
            if smallest == parent { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
