/// The format of a shard, told by its first bytes: a compression of JSON lines, or Parquet.
public enum ShardFormat: String, Sendable, CaseIterable {
    case zstd, lz4, gzip, plain, parquet

    /// The format the file name claims, from its extension.
    public static func claimed(byPath path: String) -> ShardFormat {
        if path.hasSuffix(".zst") || path.hasSuffix(".zstd") { return .zstd }
        if path.hasSuffix(".lz4") { return .lz4 }
        if path.hasSuffix(".gz") { return .gzip }
        if path.hasSuffix(".parquet") || path.hasSuffix(".pq") { return .parquet }
        return .plain
    }

    /// The format the first bytes show: zstd frames (and skippable frames), lz4 frames, gzip members;
    /// anything else is plain text. Skippable frames open both zstd and lz4 files, so for them the
    /// path's extension decides (zstd when it names neither).
    public static func detect(magic: [UInt8], path: String) -> ShardFormat {
        if magic.count >= 4 {
            let word = UInt32(magic[0]) | UInt32(magic[1]) << 8 | UInt32(magic[2]) << 16 | UInt32(magic[3]) << 24
            if word == 0xFD2F_B528 { return .zstd }
            if word == 0x184D_2204 { return .lz4 }
            if word & 0xFFFF_FFF0 == 0x184D_2A50 { return claimed(byPath: path) == .lz4 ? .lz4 : .zstd }
        }
        if magic == ParquetFile.magic { return .parquet }
        if magic.count >= 2, magic[0] == 0x1F, magic[1] == 0x8B { return .gzip }
        return .plain
    }
}
