#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Turns the command line's files, directories and globs into an ordered list of shard paths.
///
/// Order is deterministic: arguments in the order given, each directory walked recursively in
/// byte order of names, each glob's matches sorted. A directory that cannot be listed is returned
/// as an error rather than silently dropped.
public enum ShardInputs {
    /// Names of shards when a directory is walked: JSON lines, plain or compressed, and Parquet.
    /// A bare `.json` is not one (summary.json, manifest.json and JSON arrays are not JSON lines);
    /// a file named on the command line is read whatever its name.
    static func isShardName(_ name: String) -> Bool {
        let lower = name.lowercased()
        guard !lower.hasPrefix(".") else { return false }
        return [".jsonl", ".ndjson", ".jsonl.zst", ".jsonl.zstd", ".jsonl.lz4", ".jsonl.gz", ".json.gz", ".json.zst", ".json.lz4",
                ".parquet"]
            .contains { lower.hasSuffix($0) }
    }

    public static func expand(_ arguments: [String]) -> (paths: [String], errors: [ShardError]) {
        let (shards, errors) = expandNamed(arguments)
        return (shards.map(\.path), errors)
    }

    /// A shard and its path relative to the argument it came from (a directory's walk, else the
    /// file's name): the attribute files mirror these.
    public struct Shard: Sendable, Equatable {
        public var path: String
        public var relativePath: String
    }

    public static func expandNamed(_ arguments: [String]) -> (shards: [Shard], errors: [ShardError]) {
        let expansion = expandReportingSkips(arguments)
        return (expansion.shards, expansion.errors)
    }

    /// As `expandNamed`, with the files a directory's walk passed over (not shard names).
    public static func expandReportingSkips(_ arguments: [String]) -> (shards: [Shard], errors: [ShardError], skipped: [String]) {
        var shards: [Shard] = []
        var errors: [ShardError] = []
        var skipped: [String] = []
        for argument in arguments {
            if argument.contains(where: { "*?[".contains($0) }) && !FileManager.default.fileExists(atPath: argument) {
                let matches = glob(argument)
                if matches.isEmpty {
                    errors.append(ShardError(shard: argument, kind: .missingFile, reason: "the pattern matches no file"))
                }
                for match in matches { walk(match, relative: "", into: &shards, errors: &errors, skipped: &skipped, fromDirectory: false) }
            } else {
                walk(argument, relative: "", into: &shards, errors: &errors, skipped: &skipped, fromDirectory: false)
            }
        }
        return (shards, errors, skipped)
    }

    static func walk(_ path: String, relative: String, into shards: inout [Shard], errors: inout [ShardError], skipped: inout [String],
                     fromDirectory: Bool) {
        let name = (path as NSString).lastPathComponent
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            // A missing named file is still handed on, so that the reader reports it with the others.
            if !fromDirectory { shards.append(Shard(path: path, relativePath: name)) }
            return
        }
        guard isDirectory.boolValue else {
            if !fromDirectory || isShardName(name) {
                shards.append(Shard(path: path, relativePath: relative.isEmpty ? name : relative))
            } else if !name.hasPrefix(".") {
                skipped.append(path)
            }
            return
        }
        guard let dir = opendir(path) else {
            errors.append(ShardError(shard: path, kind: .unreadable, reason: "cannot list directory: \(String(cString: strerror(errno)))"))
            return
        }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        closedir(dir)
        for name in names.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
            let child = path.hasSuffix("/") ? path + name : path + "/" + name
            walk(child, relative: relative.isEmpty ? name : relative + "/" + name, into: &shards, errors: &errors, skipped: &skipped,
                 fromDirectory: true)
        }
    }

    static func glob(_ pattern: String) -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        guard Glibc.glob(pattern, 0, nil, &result) == 0 else { return [] }
        return (0..<Int(result.gl_pathc)).compactMap { index in
            result.gl_pathv[index].map { String(cString: $0) }
        }.sorted()
    }
}
