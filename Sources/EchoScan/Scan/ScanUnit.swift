/// One task of the scan stage: a whole shard, or a run of row groups of a Parquet shard, so that
/// one large Parquet file is scanned by many local or Slurm tasks.
public struct ScanUnit: Sendable, Equatable {
    /// The shard's position among the scan's shards.
    public var shard: Int
    /// The row groups this unit reads; nil for the whole shard.
    public var rowGroups: Range<Int>?

    /// The units of `shards`, in order: a Parquet shard with more than `targetBytes` of row groups
    /// gives several (row groups are packed into a unit until their columns reach that size, so
    /// that files of many small row groups do not make thousands of tasks); everything else (JSON
    /// lines, a Parquet file whose footer cannot be read, which its reader then reports) one.
    static func plan(shards: [String], targetBytes: Int) -> [ScanUnit] {
        var units: [ScanUnit] = []
        for (number, path) in shards.enumerated() {
            guard let file = try? FileSource(path: path), (try? ShardReader.format(of: file)) == .parquet,
                  let parquet = try? ParquetFile(path: path, source: file), parquet.metadata.rowGroups.count > 1 else {
                units.append(ScanUnit(shard: number, rowGroups: nil))
                continue
            }
            var start = 0
            var bytes: Int64 = 0
            for (group, rowGroup) in parquet.metadata.rowGroups.enumerated() {
                bytes += max(rowGroup.totalBytes, 0)
                if bytes >= Int64(targetBytes) || group == parquet.metadata.rowGroups.count - 1 {
                    units.append(ScanUnit(shard: number, rowGroups: start..<(group + 1)))
                    start = group + 1
                    bytes = 0
                }
            }
        }
        return units
    }

    /// Whether this unit reads the first bytes of its shard (and so hashes the whole file).
    var isFirstOfShard: Bool { rowGroups.map { $0.lowerBound == 0 } ?? true }

    var description: String {
        rowGroups.map { " row groups \($0.lowerBound)..<\($0.upperBound)" } ?? ""
    }
}
