import CEchoScanShims

/// Process-wide memory policy for batch runs.
public enum ProcessMemory {
    /// Keeps up to `bytes` of freed memory in the process for reuse. glibc otherwise hands freed
    /// memory back to the kernel (heap trimming, and a mapping per large block) and each document
    /// batch faults it in again: a one-core 60 MB dedup took 19,000 page faults, 6,800 with the
    /// default. Blocks of `bytes` or more (giant lines) are still mapped on their own. Above a
    /// few batches' worth, the kept memory shows in the peak RSS (64 MiB: an index build's
    /// 174 → 264 MB). Call once, at start-up.
    public static func keepFreedMemory(upTo bytes: Int = 16 << 20) {
        echoscan_keep_freed_memory(bytes)
    }
}
