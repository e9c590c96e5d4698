#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Where a scan's files go inside its output directory:
/// `manifest.jsonl`, `summary.json`, `attributes/echoscan/<shard's relative path>`, and per-unit manifest and
/// attribute parts under `parts/` from which those are assembled in unit order.
struct OutputLayout: Sendable {
    let directory: String
    let attributeNames: [String]
    /// The folder under `attributes/` (Dolma's attribute name).
    let attributeFolder: String

    init(directory: String, shards: [ShardInputs.Shard], attributeFolder: String = "echoscan") {
        self.directory = directory
        self.attributeFolder = attributeFolder
        attributeNames = Self.attributeNames(for: shards)
    }

    /// Creates the directory and its folders, and checks that it can be written.
    func prepare() throws {
        for folder in [directory, directory + "/parts", directory + "/attributes"] { try Self.createDirectory(folder) }
    }

    /// Creates an output folder (and its parents), failing with an error that says so.
    static func createDirectory(_ folder: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw AtomicFile.Error(path: folder, reason: "cannot create the output directory: \(error.localizedDescription)")
        }
        guard access(folder, W_OK) == 0 else {
            throw AtomicFile.Error(path: folder, reason: "the output directory is not writable")
        }
    }

    /// Deletes temporary files left by a run that was killed; call while holding the lock, when
    /// no other run can be writing here.
    func removeStaleTemporaryFiles() {
        for folder in [directory, directory + "/parts", directory + "/attributes"] {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            for name in names where name.contains(".tmp-") { try? FileManager.default.removeItem(atPath: folder + "/" + name) }
        }
    }

    var manifestPath: String { directory + "/manifest.jsonl" }
    var summaryPath: String { directory + "/summary.json" }

    func partPath(_ unit: Int) -> String { directory + "/parts/" + String(format: "%06d", unit) + ".manifest.jsonl" }
    func attributePartPath(_ unit: Int) -> String { directory + "/parts/" + String(format: "%06d", unit) + ".attributes.jsonl" }
    func unitSummaryPath(_ unit: Int) -> String { directory + "/parts/" + String(format: "%06d", unit) + ".summary.json" }
    func attributePath(_ shard: Int) -> String { directory + "/attributes/" + attributeFolder + "/" + attributeNames[shard] }

    /// The shards' paths under `attributes/<name>/`: their paths relative to the inputs they came
    /// from, with their compression (a Parquet shard's as `.jsonl`), as `dolma mix` finds the
    /// attributes of `documents/<path>`; made unique by a numeric prefix when two inputs give the
    /// same path.
    static func attributeNames(for shards: [ShardInputs.Shard]) -> [String] {
        uniqueNames(shards.map { shard -> String in
            var name = shard.relativePath
            if name.hasSuffix(".parquet") { name.removeLast(".parquet".count); name += ".jsonl" }
            return name
        })
    }

    /// `names`, each that more than one shard has made unique by its shard's number.
    static func uniqueNames(_ names: [String]) -> [String] {
        var seen: [String: Int] = [:]
        for name in names { seen[name, default: 0] += 1 }
        return names.enumerated().map { number, name in
            guard seen[name, default: 0] > 1 else { return name }
            let folder = (name as NSString).deletingLastPathComponent
            let file = String(format: "%06d-", number) + (name as NSString).lastPathComponent
            return folder.isEmpty ? file : folder + "/" + file
        }
    }

    /// Concatenates the unit parts into manifest.jsonl, atomically.
    func mergeManifests(unitCount: Int) throws {
        try concatenate((0..<unitCount).map(partPath), into: manifestPath)
    }

    /// Concatenates a shard's units' attribute parts into its attribute file.
    func mergeAttributes(shard: Int, units: [Int]) throws {
        let path = attributePath(shard)
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try concatenate(units.map(attributePartPath), into: path)
    }

    /// Writes `parts` end to end to `path`, atomically, with the compression its name asks for
    /// (none for manifest.jsonl).
    private func concatenate(_ parts: [String], into path: String) throws {
        try AtomicFile.write(to: path) { sink in
            let compressor = try StreamCompressor(kind: .init(path: path), sink: sink)
            for part in parts {
                guard let data = FileManager.default.contents(atPath: part) else { continue }
                try data.withUnsafeBytes { try compressor.write($0) }
            }
            try compressor.finish()
        }
    }
}

/// The two files one unit writes while it is scanned, under temporary names until `commit()`.
final class ShardOutput {
    let manifest: BufferedOutput
    let attributes: BufferedOutput?
    private let manifestFile: TemporaryFile
    private let attributeFile: TemporaryFile?

    init(layout: OutputLayout, unit: Int, attributes: Bool) throws {
        manifestFile = try TemporaryFile(target: layout.partPath(unit))
        manifest = BufferedOutput(descriptor: manifestFile.descriptor)
        if attributes {
            let file = try TemporaryFile(target: layout.attributePartPath(unit))
            attributeFile = file
            self.attributes = BufferedOutput(descriptor: file.descriptor)
        } else {
            attributeFile = nil
            self.attributes = nil
        }
    }

    func commit() throws {
        manifest.flush()
        attributes?.flush()
        if let failure = manifest.failure ?? attributes?.failure {
            manifestFile.discard()
            attributeFile?.discard()
            throw AtomicFile.Error(path: manifestFile.target, reason: String(cString: strerror(failure)))
        }
        // Written by a scan task: the stage syncs before its marker (`Stage.run(task:)`).
        try manifestFile.commit(durable: false)
        try attributeFile?.commit(durable: false)
    }
}

