/// Why a shard, or one line of it, could not be read.
///
/// Every error names the shard and, where there is one, the 1-based line, so that a user can
/// find the bad bytes with `sed -n LINEp` or `zstd -dc SHARD | sed -n LINEp`.
public struct ShardError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong: the class of the error, as the summary reports it.
    public enum Kind: String, Sendable, Codable {
        case missingFile = "missing_file"
        case unreadable
        case emptyFile = "empty_file"
        case formatMismatch = "format_mismatch"
        case corruptStream = "corrupt_stream"
        case truncatedStream = "truncated_stream"
        case invalidJSON = "invalid_json"
        case invalidUTF8 = "invalid_utf8"
        case missingField = "missing_field"
        case wrongFieldType = "wrong_field_type"
        case lineTooLong = "line_too_long"
        case writeFailed = "write_failed"
    }

    public var shard: String
    /// 1-based line number, or nil when the error concerns the whole shard.
    public var line: Int?
    public var kind: Kind
    public var reason: String

    public init(shard: String, line: Int? = nil, kind: Kind, reason: String) {
        self.shard = shard
        self.line = line
        self.kind = kind
        self.reason = reason
    }

    /// True when the error ends the shard (as opposed to one skipped line).
    public var isFatalToShard: Bool {
        switch kind {
        case .invalidJSON, .invalidUTF8, .missingField, .wrongFieldType, .lineTooLong: return false
        default: return true
        }
    }

    public var description: String {
        if let line { return "\(shard):\(line): \(kind.rawValue): \(reason)" }
        return "\(shard): \(kind.rawValue): \(reason)"
    }
}
