import Foundation
import GRDB

/// One scan of one shard, as the ledger records it.
public struct LedgerEntry: Codable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "shard_scans"

    public var path: String
    public var size: Int
    public var modified: Double
    public var sha256: String?
    public var indexSHA256: String
    public var pipelineSHA256: String
    public var status: String
    public var documents: Int
    public var flagged: Int
    public var badLines: Int
    public var error: String?
    public var finishedAt: String
    public var seconds: Double

    enum CodingKeys: String, CodingKey {
        case path, size, modified, sha256, indexSHA256 = "index_sha256", pipelineSHA256 = "pipeline_sha256", status
        case documents, flagged, badLines = "bad_lines", error, finishedAt = "finished_at", seconds
    }
}

/// DIR/ledger.sqlite: every shard scanned into an output directory, with the index and pipeline
/// it was scanned with, its checksum, outcome, counts and timing. SQLite (through GRDB) keeps it
/// consistent when a run is killed or the disk fills: a row is written in one transaction after
/// the shard's files are in place, or not at all.
public struct Ledger: Sendable {
    public let path: String
    private let queue: DatabaseQueue

    public init(directory: String) throws {
        path = directory + "/ledger.sqlite"
        var configuration = Configuration()
        // Slurm tasks of one run may record at the same time; SQLite serialises them.
        configuration.busyMode = .timeout(60)
        queue = try DatabaseQueue(path: path, configuration: configuration)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: LedgerEntry.databaseTableName) { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("path", .text).notNull()
                table.column("size", .integer).notNull()
                table.column("modified", .double).notNull()
                table.column("sha256", .text)
                table.column("index_sha256", .text).notNull()
                table.column("pipeline_sha256", .text).notNull()
                table.column("status", .text).notNull()
                table.column("documents", .integer).notNull()
                table.column("flagged", .integer).notNull()
                table.column("bad_lines", .integer).notNull()
                table.column("error", .text)
                table.column("finished_at", .text).notNull()
                table.column("seconds", .double).notNull()
            }
            try db.create(index: "shard_scans_by_path", on: LedgerEntry.databaseTableName, columns: ["path", "index_sha256", "pipeline_sha256"])
        }
        try migrator.migrate(queue)
    }

    public func record(_ entry: LedgerEntry) throws {
        try queue.write { db in try entry.insert(db) }
    }

    /// Every recorded scan, oldest first.
    public func entries() throws -> [LedgerEntry] {
        try queue.read { db in try LedgerEntry.order(Column("id")).fetchAll(db) }
    }
}
