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
    public var status: RunStatus
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

    /// Opens (and, for writing, creates) DIR/ledger.sqlite. `readOnly` opens an existing ledger
    /// without writing a byte, so that listing it works on a full disk too.
    public init(directory: String, readOnly: Bool = false) throws {
        path = directory + "/ledger.sqlite"
        var configuration = Configuration()
        // Slurm tasks of one run may record at the same time; SQLite serialises them.
        configuration.busyMode = .timeout(60)
        configuration.readonly = readOnly
        queue = try DatabaseQueue(path: path, configuration: configuration)
        guard !readOnly else { return }
        // Idempotent DDL rather than a migrator: several processes (Slurm tasks, parallel
        // shards) may open a new ledger at the same moment, and SQLite serialises these writes.
        try queue.write { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS shard_scans (
                    id INTEGER PRIMARY KEY AUTOINCREMENT, path TEXT NOT NULL, size INTEGER NOT NULL, modified DOUBLE NOT NULL,
                    sha256 TEXT, index_sha256 TEXT NOT NULL, pipeline_sha256 TEXT NOT NULL, status TEXT NOT NULL,
                    documents INTEGER NOT NULL, flagged INTEGER NOT NULL, bad_lines INTEGER NOT NULL, error TEXT,
                    finished_at TEXT NOT NULL, seconds DOUBLE NOT NULL);
                CREATE INDEX IF NOT EXISTS shard_scans_by_path ON shard_scans (path, index_sha256, pipeline_sha256);
                """)
        }
    }

    public func record(_ entry: LedgerEntry) throws {
        try queue.write { db in try entry.insert(db) }
    }

    /// Every recorded scan, oldest first.
    public func entries() throws -> [LedgerEntry] {
        try queue.read { db in
            // A ledger whose creation the disk cut short has no table yet: nothing was recorded.
            guard try db.tableExists("shard_scans") else { return [] }
            return try LedgerEntry.order(Column("id")).fetchAll(db)
        }
    }
}
