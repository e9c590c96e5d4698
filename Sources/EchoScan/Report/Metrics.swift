import Foundation

/// Prometheus text-format metrics of a run (DIR/metrics.prom), for node_exporter's textfile
/// collector: cron runs scan, the collector exposes the last result, alerts fire on it.
public enum RunMetrics {
    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    public static func text(job: String, summary: ScanSummary, seconds: Double, finished: Date = Date()) -> String {
        let label = "job=\"\(escape(job))\""
        var lines: [String] = []
        func metric(_ name: String, _ help: String, _ type: String, _ samples: [(String, Double)]) {
            lines.append("# HELP \(name) \(help)")
            lines.append("# TYPE \(name) \(type)")
            for (labels, value) in samples {
                let all = labels.isEmpty ? label : label + "," + labels
                lines.append("\(name){\(all)} \(value == value.rounded() ? String(Int64(value)) : String(value))")
            }
        }
        let totals = summary.totals
        metric("echoscan_documents_scanned", "Documents read in the last run.", "gauge", [("", Double(totals.documents))])
        metric("echoscan_documents_flagged", "Documents flagged in the last run.", "gauge", [("", Double(totals.flagged))])
        metric("echoscan_documents_flagged_by_vendor", "Flagged documents by the vendor of their best match.", "gauge",
               ScanReport.sorted(totals.byVendor).map { ("vendor=\"\(escape($0.0))\"", Double($0.1)) })
        metric("echoscan_documents_flagged_by_detector", "Flagged documents by detector.", "gauge",
               ScanReport.sorted(totals.byDetector).map { ("detector=\"\(escape($0.0))\"", Double($0.1)) })
        metric("echoscan_bad_lines", "Lines skipped as unreadable in the last run.", "gauge", [("", Double(totals.badLines))])
        metric("echoscan_shard_errors", "Shards that could not be read to their end in the last run.", "gauge",
               [("", Double(summary.shards.filter { $0.error != nil }.count + summary.inputErrors.count))])
        metric("echoscan_run_duration_seconds", "Wall-clock duration of the last run.", "gauge", [("", seconds)])
        metric("echoscan_last_run_timestamp_seconds", "When the last run finished.", "gauge", [("", finished.timeIntervalSince1970.rounded())])
        if summary.status == .ok {
            metric("echoscan_last_success_timestamp_seconds", "When the last fully successful run finished.", "gauge",
                   [("", finished.timeIntervalSince1970.rounded())])
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes DIR/metrics.prom atomically (the collector must never read half a file).
    public static func write(job: String, summary: ScanSummary, seconds: Double, to directory: String) throws {
        var text = text(job: job, summary: summary, seconds: seconds)
        // Keep the last success time across partial runs, as alerting on staleness needs it.
        let path = directory + "/metrics.prom"
        if summary.status != .ok, let previous = try? String(contentsOfFile: path, encoding: .utf8) {
            let kept = previous.split(separator: "\n").filter { $0.contains("echoscan_last_success_timestamp_seconds") }
            if !kept.isEmpty { text += kept.joined(separator: "\n") + "\n" }
        }
        try AtomicFile.write(Array(text.utf8), to: path)
    }
}
