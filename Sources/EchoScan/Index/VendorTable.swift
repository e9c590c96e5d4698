import Yams

/// Which vendor made a model, told by the model's name (`gpt-4-0314` → openai): a versioned list
/// of name patterns (pipelines/vendors/vendors-v1.yaml, compiled into the binary), which a
/// pipeline may extend with rules of its own, tried first.
public struct VendorTable: Sendable, Equatable {
    /// One rule of the table: model names matching a pattern belong to a vendor.
    public struct Rule: Codable, Sendable, Equatable {
        public var vendor: String
        public var patterns: [String]

        public init(vendor: String, patterns: [String]) {
            self.vendor = vendor
            self.patterns = patterns
        }
    }

    struct File: Codable {
        var version: Int
        var vendors: [Rule]
    }

    public var version: Int
    public var rules: [Rule]

    /// The built-in table.
    public static let standard: VendorTable = {
        // The embedded text is the repository's file, checked by a test; it always decodes.
        (try? VendorTable(yaml: EmbeddedDefaults.vendors.text)) ?? VendorTable(version: 0, rules: [])
    }()

    init(version: Int, rules: [Rule]) {
        self.version = version
        self.rules = rules
    }

    public init(yaml: String) throws {
        let file = try YAMLDecoder().decode(File.self, from: yaml)
        self.init(version: file.version, rules: file.vendors)
    }

    /// This table with `rules` tried before its own.
    public func extended(with rules: [Rule]) -> VendorTable {
        VendorTable(version: version, rules: rules + self.rules)
    }

    /// The vendor of `model`, or "unknown".
    public func vendor(ofModel model: String) -> String {
        let name = Array(model.lowercased().utf8)
        for rule in rules where rule.patterns.contains(where: { Self.matches(Array($0.lowercased().utf8)[...], name[...]) }) {
            return rule.vendor
        }
        return "unknown"
    }

    /// A glob with `*` only.
    static func matches(_ pattern: ArraySlice<UInt8>, _ name: ArraySlice<UInt8>) -> Bool {
        guard let first = pattern.first else { return name.isEmpty }
        if first == UInt8(ascii: "*") {
            let rest = pattern.dropFirst()
            var tail = name
            while true {
                if matches(rest, tail) { return true }
                guard !tail.isEmpty else { return false }
                tail = tail.dropFirst()
            }
        }
        guard name.first == first else { return false }
        return matches(pattern.dropFirst(), name.dropFirst())
    }
}
