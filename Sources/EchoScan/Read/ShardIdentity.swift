import Foundation

/// What identifies a shard file without reading it: path, size and modification time. A shard
/// rewritten in place gets a new identity and is scanned again.
public struct ShardIdentity: Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var size: Int
    public var modified: Double

    public init(path: String) {
        self.path = path
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        size = (attributes?[.size] as? NSNumber)?.intValue ?? -1
        modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
    }

    public var description: String { "\(path) \(size) \(String(format: "%.6f", modified))" }
}
