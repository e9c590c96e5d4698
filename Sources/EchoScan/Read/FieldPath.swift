/// Where a reader finds strings in a record: `text`, `meta.model`, `messages[*].content`,
/// `messages[role=assistant].content`, `conversations[from=gpt|chatgpt].value`.
///
/// Steps are separated by dots; `[*]` takes every element of an array, `[key=a|b]` only the
/// object elements whose `key` holds one of the listed strings (the filter's key is a sibling of
/// the selected field, as `role` is of `content` in a chat message). The same path selects the
/// same strings from a JSON line and from a Parquet row.
public struct FieldPath: Sendable, Hashable, CustomStringConvertible {
    /// One step of a path: an object key, or an array with an optional filter.
    public enum Step: Sendable, Hashable {
        case key(String)
        /// The elements of an array; with a filter, only those that pass it.
        case elements(Filter?)
    }

    /// Keeps an array element whose `key` holds one of `values`.
    public struct Filter: Sendable, Hashable {
        public var key: String
        public var values: [String]

        public init(key: String, values: [String]) {
            self.key = key
            self.values = values
        }
    }

    /// A field path that does not parse: the path and where it fails.
    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public var path: String
        public var reason: String
        public var description: String { "field path \"\(path)\": \(reason)" }
    }

    public let steps: [Step]

    /// A top-level key, taken as it is (dots and brackets included).
    public init(key: String) {
        steps = [.key(key)]
    }

    public init(_ text: String) throws(ParseError) {
        func fail(_ reason: String) -> ParseError { ParseError(path: text, reason: reason) }
        var steps: [Step] = []
        var name = ""
        var characters = text.makeIterator()
        var expectingName = true
        func endName() throws(ParseError) {
            guard !name.isEmpty else { throw fail("an empty field name") }
            steps.append(.key(name))
            name = ""
            expectingName = false
        }
        while let character = characters.next() {
            switch character {
            case ".":
                if expectingName { try endName() }
                expectingName = true
            case "[":
                if expectingName { try endName() }
                var inside = ""
                var closed = false
                while let next = characters.next() {
                    if next == "]" { closed = true; break }
                    inside.append(next)
                }
                guard closed else { throw fail("a '[' without its ']'") }
                if inside == "*" {
                    steps.append(.elements(nil))
                } else {
                    let parts = inside.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                    guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                        throw fail("[\(inside)] is neither [*] nor [key=value|value]")
                    }
                    let values = parts[1].split(separator: "|", omittingEmptySubsequences: false).map(String.init)
                    guard !values.contains(where: \.isEmpty) else { throw fail("an empty value in [\(inside)]") }
                    steps.append(.elements(Filter(key: String(parts[0]), values: values)))
                }
            case "]":
                throw fail("a ']' without its '['")
            default:
                guard expectingName else { throw fail("a name right after ']' (separate steps with '.')") }
                name.append(character)
            }
        }
        if expectingName { try endName() }
        guard case .key = steps.first else { throw fail("a path starts with a field name") }
        self.steps = steps
    }

    public var description: String {
        segmentName(indices: nil)
    }

    /// True when the path selects at most one string per record.
    public var isScalar: Bool {
        !steps.contains { if case .elements = $0 { return true } else { return false } }
    }

    /// The first step's name: a record without it lacks the field.
    var root: String {
        if case .key(let name) = steps[0] { return name }
        return ""
    }

    /// The path with the elements it went through: `messages[3].content` for indices `[3]`.
    func segmentName(indices: [Int]?) -> String {
        var text = ""
        var next = 0
        for step in steps {
            switch step {
            case .key(let name):
                if !text.isEmpty { text += "." }
                text += name
            case .elements(let filter):
                if let indices, next < indices.count {
                    text += "[\(indices[next])]"
                    next += 1
                } else if let filter {
                    text += "[\(filter.key)=\(filter.values.joined(separator: "|"))]"
                } else {
                    text += "[*]"
                }
            }
        }
        return text
    }
}

/// The usual shapes of text and chat datasets: which strings are the documents, and which are the
/// prompts they answer (used by the index build, where prompt text is not evidence).
public enum RecordFormat: String, Sendable, CaseIterable {
    /// `{"text": …}`: the Dolma and RedPajama shape.
    case text
    /// `{"messages": [{"role": "user", "content": …}, {"role": "assistant", "content": …}]}`.
    case chat
    /// `{"conversations": [{"from": "human", "value": …}, {"from": "gpt", "value": …}]}`.
    case sharegpt
    /// `{"instruction": …, "input": …, "output": …}`.
    case alpaca
    /// `{"chosen": [messages], "rejected": [messages]}`: both answers of a preference pair.
    case preference

    public var textPaths: [String] {
        switch self {
        case .text: return ["text"]
        case .chat: return ["messages[role=assistant].content"]
        case .sharegpt: return ["conversations[from=gpt|chatgpt|assistant|bard|bing|model].value"]
        case .alpaca: return ["output"]
        case .preference: return ["chosen[role=assistant].content", "rejected[role=assistant].content"]
        }
    }

    public var promptPaths: [String] {
        switch self {
        case .text: return ["prompt"]
        case .chat: return ["messages[role=user].content"]
        case .sharegpt: return ["conversations[from=human|user].value"]
        case .alpaca: return ["instruction", "input"]
        case .preference: return ["chosen[role=user].content", "rejected[role=user].content"]
        }
    }
}
