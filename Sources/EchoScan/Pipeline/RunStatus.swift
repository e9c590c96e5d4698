/// How a run, or one shard of it, ended.
public enum RunStatus: String, Codable, Sendable, Comparable {
    /// Every shard read whole.
    case ok
    /// Some lines or shards could not be read; the rest was (exit status 3).
    case partial
    /// The shard could not be read to its end.
    case failed

    /// The status of a shard whose reading stopped early (`failed`) or skipped `badLines` lines.
    init(failed: Bool, badLines: Int) {
        self = failed ? .failed : (badLines > 0 ? .partial : .ok)
    }

    /// Worse is greater: a shard scanned in units takes its worst unit's status.
    public static func < (lhs: RunStatus, rhs: RunStatus) -> Bool { lhs.rank < rhs.rank }

    private var rank: Int {
        switch self {
        case .ok: 0
        case .partial: 1
        case .failed: 2
        }
    }
}

/// A stage a pipeline file names under `stages:`.
public enum PipelineStage: String, CaseIterable, Sendable {
    /// Near-duplicate clusters over the inputs (`echoscan dedup`).
    case dedup
    /// Matches, markers and style against the index (`echoscan scan`).
    case scan
    /// report.md and report.html after the scan.
    case report
}
