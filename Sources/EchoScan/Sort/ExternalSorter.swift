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
        // Reserved, not grown by doubling: a run never takes more than its budget.
        if buffer.capacity == 0 { buffer.reserveCapacity(runEntries) }
        buffer.append((key, value))
        if buffer.count >= runEntries { try spill() }
    }

    private mutating func sortBuffer() {
        RadixSort.sort(&buffer)
    }

    private mutating func spill() throws {
        sortBuffer()
        let path = directory + "/\(name)-\(runs.count).bin"
        // A scratch file: no rename or sync needed, a failed task redoes it.
        let file = try ScratchFile(path: path, checksummed: false)
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
        while let entry = try entries.next() { try body(entry) }
    }
}

/// The merged output of an `ExternalSorter`: a k-way merge over a binary min-heap of the runs'
/// heads, or the in-memory run when nothing was spilled. Runs are read through small buffers, so
/// a merge holds `RunReader.bufferBytes` per run whatever the runs' size.
final class SortedEntries {
    typealias Entry = ExternalSorter.Entry

    // A merge is read by one thread, entry by entry (hundreds of millions in a large build): its
    // state is not checked for exclusive access at run time on every read.
    @exclusivity(unchecked) private var entries: [Entry]
    @exclusivity(unchecked) private var position = 0
    private let runs: [RunReader]
    @exclusivity(unchecked) private var heap: [(entry: Entry, run: Int)] = []

    init(entries: [Entry]) {
        self.entries = entries
        runs = []
    }

    init(runs paths: [String]) throws {
        entries = []
        runs = try paths.map { try RunReader(path: $0) }
        for (index, run) in runs.enumerated() {
            if let first = try run.next() { heap.append((first, index)) }
        }
        for index in stride(from: heap.count / 2, through: 0, by: -1) { siftDown(index) }
    }

    /// The next entry in order, or nil at the end.
    func next() throws -> Entry? {
        if runs.isEmpty {
            guard position < entries.count else { return nil }
            position += 1
            return entries[position - 1]
        }
        guard let top = heap.first else { return nil }
        if let following = try runs[top.run].next() {
            heap[0] = (following, top.run)
        } else {
            heap[0] = heap[heap.count - 1]
            heap.removeLast()
        }
        if !heap.isEmpty { siftDown(0) }
        return top.entry
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

/// Reads one sorted run file front to back through a fixed buffer; deletes the file when released.
final class RunReader {
    static let bufferBytes = 64 << 10
    let path: String
    private let descriptor: Int32
    // Read by its merge alone (see `SortedEntries`).
    @exclusivity(unchecked) private var buffer: [UInt8]
    @exclusivity(unchecked) private var filled = 0
    @exclusivity(unchecked) private var position = 0

    init(path: String) throws {
        self.path = path
        descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw ScratchError(path: path, reason: String(cString: strerror(errno))) }
        buffer = [UInt8](repeating: 0, count: Self.bufferBytes)
    }

    deinit {
        close(descriptor)
        unlink(path)
    }

    func next() throws -> ExternalSorter.Entry? {
        if filled - position < 16 {
            try refill()
            guard filled - position >= 16 else { return nil }
        }
        defer { position += 16 }
        return buffer.withUnsafeBytes { raw in
            (raw.loadUnaligned(fromByteOffset: position, as: UInt64.self).littleEndian,
             raw.loadUnaligned(fromByteOffset: position + 8, as: UInt64.self).littleEndian)
        }
    }

    /// Moves the unread tail to the front and reads more after it.
    private func refill() throws {
        let tail = filled - position
        buffer.withUnsafeMutableBytes { raw in
            if tail > 0, let base = raw.baseAddress { memmove(base, base + position, tail) }
        }
        filled = tail
        position = 0
        while filled < buffer.count {
            let n = buffer.withUnsafeMutableBytes { raw in read(descriptor, raw.baseAddress.map { $0 + filled }, raw.count - filled) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw ScratchError(path: path, reason: String(cString: strerror(errno))) }
            if n == 0 { return }
            filled += n
        }
    }
}
