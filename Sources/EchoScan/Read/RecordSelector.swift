/// The field paths a reader takes from each record, compiled into one tree of keys that the JSON
/// extractor walks once per line (and that names the Parquet columns to read).
///
/// Fields are numbered: the text paths first, then the prompt paths, the id, and the extras.
public struct RecordSelector: Sendable {
    public let textPaths: [FieldPath]
    public let promptPaths: [FieldPath]
    public let idPath: FieldPath
    public let extraPaths: [FieldPath]
    /// Every field in its number's order.
    package let fields: [FieldPath]
    let nodes: [Node]

    /// One object level of the tree: the keys wanted there and what each leads to.
    struct Node: Sendable {
        var keys: [[UInt8]] = []
        /// Per key: the node of its value, or -1 for a key that only a filter reads.
        var children: [Int] = []
        /// Fields whose path ends at this node (their string or number is captured).
        var terminals: [Int] = []
        /// The node of this value's array elements.
        var elements: Int?
        /// On an element node: per field with a filter at this step, the key (an index into
        /// `keys`) and the accepted values.
        var filters: [(field: Int, key: Int, values: [[UInt8]])] = []
        var filterKeys: [Int] { filters.map(\.key) }
    }

    public init(texts: [FieldPath], prompts: [FieldPath] = [], id: FieldPath, extras: [FieldPath] = []) {
        textPaths = texts
        promptPaths = prompts
        idPath = id
        extraPaths = extras
        fields = texts + prompts + [id] + extras
        var nodes = [Node()]
        for (field, path) in fields.enumerated() {
            var node = 0
            func child(_ name: String, of node: Int) -> Int {
                let key = Array(name.utf8)
                if let position = nodes[node].keys.firstIndex(of: key) {
                    if nodes[node].children[position] >= 0 { return nodes[node].children[position] }
                    nodes.append(Node())
                    nodes[node].children[position] = nodes.count - 1
                    return nodes.count - 1
                }
                nodes.append(Node())
                nodes[node].keys.append(key)
                nodes[node].children.append(nodes.count - 1)
                return nodes.count - 1
            }
            for step in path.steps {
                switch step {
                case .key(let name):
                    node = child(name, of: node)
                case .elements(let filter):
                    let elements: Int
                    if let existing = nodes[node].elements {
                        elements = existing
                    } else {
                        nodes.append(Node())
                        elements = nodes.count - 1
                        nodes[node].elements = elements
                    }
                    if let filter {
                        let key = Array(filter.key.utf8)
                        var position = nodes[elements].keys.firstIndex(of: key)
                        if position == nil {
                            nodes[elements].keys.append(key)
                            nodes[elements].children.append(-1)
                            position = nodes[elements].keys.count - 1
                        }
                        nodes[elements].filters.append((field, position ?? 0, filter.values.map { Array($0.utf8) }))
                    }
                    node = elements
                }
            }
            nodes[node].terminals.append(field)
        }
        self.nodes = nodes
    }

    /// The paths a reader's options name.
    public init(options: ReaderOptions) {
        self.init(texts: options.textPaths, prompts: options.promptPaths, id: options.idPath, extras: options.extraPaths)
    }

    var idField: Int { textPaths.count + promptPaths.count }
    /// The position of a field's first key among the top-level keys.
    func rootKey(of field: Int) -> Int {
        let root = Array(fields[field].root.utf8)
        return nodes[0].keys.firstIndex(of: root) ?? 0
    }
    func isText(_ field: Int) -> Bool { field < textPaths.count }
    func isPrompt(_ field: Int) -> Bool { field >= textPaths.count && field < idField }
}

/// The strings one record held for a selector's fields, in the order they were met.
public struct RecordCaptures: Sendable {
    /// A value the extractor captured, with the array indices it lies under.
    public struct Capture: Sendable {
        public var field: Int
        /// The array elements the value lies in, as a range of `indices`.
        public var indexRange: Range<Int>
        public var value: JSONFieldExtractor.Value
    }

    public var items: [Capture] = []
    public var indices: [Int] = []
    /// Per top-level key the selector wants: whether the record had it (a record without a text
    /// path's first key lacks the field; one with it may still hold no string the path selects).
    public var rootsSeen: [Bool] = []

    public init() {}

    mutating func reset(rootCount: Int) {
        items.removeAll(keepingCapacity: true)
        indices.removeAll(keepingCapacity: true)
        rootsSeen.removeAll(keepingCapacity: true)
        rootsSeen.append(contentsOf: repeatElement(false, count: rootCount))
    }

    mutating func append(field: Int, elementIndices: ArraySlice<Int>, value: JSONFieldExtractor.Value) {
        let start = indices.count
        indices.append(contentsOf: elementIndices)
        items.append(Capture(field: field, indexRange: start..<indices.count, value: value))
    }

    /// Moves every captured range by `distance` (captures made into another buffer).
    mutating func shift(by distance: Int) {
        guard distance != 0 else { return }
        for index in items.indices {
            switch items[index].value {
            case .string(let range): items[index].value = .string((range.lowerBound + distance)..<(range.upperBound + distance))
            case .number(let range): items[index].value = .number((range.lowerBound + distance)..<(range.upperBound + distance))
            default: break
            }
        }
    }

    package func first(_ field: Int) -> JSONFieldExtractor.Value {
        items.first { $0.field == field }?.value ?? .absent
    }
}

/// One selected string of a record: a document of its own.
struct RecordSegment {
    var field: String?
    var turn: Int?
    var textRange: Range<Int>
    var promptRanges: [Range<Int>]
}

extension RecordSelector {
    /// The record's text segments (in the order met), each with the prompt strings that go with
    /// it: a scalar prompt path's string, or the last element before it in the same array that a
    /// prompt path selects (the user turn before an assistant turn).
    func segments(of captures: RecordCaptures) -> [RecordSegment] {
        var segments: [RecordSegment] = []
        for capture in captures.items where isText(capture.field) {
            guard case .string(let range) = capture.value else { continue }
            let path = fields[capture.field]
            let indices = Array(captures.indices[capture.indexRange])
            var prompts: [Range<Int>] = []
            for field in textPaths.count..<idField {
                let promptPath = fields[field]
                if promptPath.isScalar {
                    if case .string(let prompt) = captures.first(field) { prompts.append(prompt) }
                    continue
                }
                guard !indices.isEmpty, Self.sameArray(promptPath, path) else { continue }
                var best: (turn: Int, range: Range<Int>)?
                for candidate in captures.items where candidate.field == field {
                    guard case .string(let prompt) = candidate.value else { continue }
                    let other = captures.indices[candidate.indexRange]
                    guard other.count == indices.count, other.dropLast().elementsEqual(indices.dropLast()),
                          let turn = other.last, let own = indices.last, turn < own else { continue }
                    if best.map({ turn > $0.turn }) ?? true { best = (turn, prompt) }
                }
                if let best { prompts.append(best.range) }
            }
            segments.append(RecordSegment(field: path.segmentName(indices: indices), turn: indices.last,
                                          textRange: range, promptRanges: prompts))
        }
        return segments
    }

    /// True when two paths run through the same arrays (filters aside) up to their last one.
    static func sameArray(_ a: FieldPath, _ b: FieldPath) -> Bool {
        func prefix(_ path: FieldPath) -> [String] {
            guard let last = path.steps.lastIndex(where: { if case .elements = $0 { return true } else { return false } }) else { return [] }
            return path.steps[...last].map { step in
                if case .key(let name) = step { return name }
                return "[]"
            }
        }
        return prefix(a) == prefix(b)
    }
}
