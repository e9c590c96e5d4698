import Foundation

/// The human-readable reports of a scan: report.md for terminals and pull requests, and
/// report.html, one self-contained file with inline SVG charts and no network access.
public struct ScanReport {
    public let summary: ScanSummary
    public let manifest: ManifestDigest
    /// Flagged documents shown with their matched passages highlighted (text, spans, entry).
    public let samples: [(entry: ManifestDigest.Entry, text: String)]

    public init(summary: ScanSummary, manifest: ManifestDigest, sampleCount: Int = 5, reader: ReaderOptions = ReaderOptions()) {
        self.summary = summary
        self.manifest = manifest
        var samples: [(ManifestDigest.Entry, String)] = []
        let wanted = manifest.entries.filter { !$0.spans.isEmpty }.prefix(sampleCount)
        for (shard, entries) in Dictionary(grouping: wanted, by: \.shard).sorted(by: { $0.key < $1.key }) {
            let lines = Set(entries.map(\.line))
            _ = ShardReader(path: shard, options: reader).read { batch in
                for document in batch.documents where lines.contains(document.line) {
                    if let entry = entries.first(where: { $0.line == document.line && $0.field == document.field }) {
                        samples.append((entry, batch.text(of: document)))
                    }
                }
            }
        }
        self.samples = samples.sorted { ($0.0.shard, $0.0.line) < ($1.0.shard, $1.0.line) }
    }

    func rate(_ counts: ScanSummary.Counts) -> Double {
        counts.documents > 0 ? Double(counts.flagged) / Double(counts.documents) : 0
    }

    func percent(_ value: Double) -> String { String(format: "%.2f%%", value * 100) }

    static func sorted(_ counts: [String: Int]) -> [(String, Int)] {
        counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
    }

    // MARK: Markdown

    public func markdown() -> String {
        let totals = summary.totals
        var lines = ["# echoscan report", "",
                     "Scanned \(summary.shards.count) shards, \(totals.documents) documents: **\(totals.flagged) flagged (\(percent(rate(totals))))**; status \(summary.status.rawValue).",
                     "Index `\(summary.index.path)` (sha256 \(summary.index.sha256.prefix(16))…, \(summary.index.references) references); pipeline \(summary.pipeline.path ?? "defaults"); \(summary.startedAt) – \(summary.finishedAt) on \(summary.host).",
                     "", "## By vendor", "", "| vendor | flagged documents |", "|---|---|"]
        lines += Self.sorted(totals.byVendor).map { "| \($0.0) | \($0.1) |" }
        lines += ["", "## By model", "", "| model | flagged documents |", "|---|---|"]
        lines += Self.sorted(totals.byModel).map { "| \($0.0) | \($0.1) |" }
        lines += ["", "## By detector", "", "| detector | documents |", "|---|---|"]
        lines += Self.sorted(totals.byDetector).map { "| \($0.0) | \($0.1) |" }
        lines += ["", "## Shards", "", "| shard | documents | flagged | rate | status |", "|---|---|---|---|---|"]
        for shard in summary.shards.sorted(by: { rate($0.counts) > rate($1.counts) }) {
            lines.append("| \(shard.path) | \(shard.counts.documents) | \(shard.counts.flagged) | \(percent(rate(shard.counts))) | \(shard.status.rawValue)\(shard.error.map { ": " + $0 } ?? "") |")
        }
        if let style = summary.style {
            lines += ["", "## Style profile", "",
                      "Documents of \(style.minimumWords) words or more: \(style.totals.documents). The style detector's likelihood that a "
                      + "model of each vendor wrote them (not evidence of a copy).\(Self.vendorLength(style))", "",
                      "| style | documents | share | 95% interval |", "|---|---|---|---|"]
            lines += style.totals.shares.map { "| \($0.style) | \($0.documents) | \(percent($0.share)) | \(percent($0.low)) – \(percent($0.high)) |" }
            lines += ["", "| phrase | documents | over-represented against human text |", "|---|---|---|"]
            lines += style.totals.phrases.map { "| `\($0.phrase)` | \($0.documents) | \(String(format: "%.1f×", $0.lift)) |" }
        }
        lines += ["", "## Containment of best matches", "", "| containment | documents |", "|---|---|"]
        for (bin, count) in manifest.containmentHistogram.enumerated() {
            lines.append("| \(String(format: "%.1f–%.1f", Double(bin) / 10, Double(bin + 1) / 10)) | \(count) |")
        }
        lines += ["", "## Most-matched references", "", "| reference | model | documents |", "|---|---|---|"]
        lines += manifest.topReferences(10).map { "| \($0.0) | \($0.1) | \($0.2) |" }
        lines += ["", "## Samples", ""]
        for (entry, text) in samples {
            lines.append("- `\(entry.shard):\(entry.line)` (\(entry.id ?? "no id")) → \(entry.refID ?? "") (\(entry.model ?? ""), \(entry.vendor ?? "")): "
                         + "“\(Self.excerpt(text, spans: entry.spans, open: "**", close: "**"))”")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The first matched passage with some context, marked, on one line.
    static func excerpt(_ text: String, spans: [[Int]], open: String, close: String, escape: (String) -> String = { $0 }) -> String {
        let bytes = Array(text.utf8)
        guard let span = spans.first, span.count == 2, span[0] <= span[1], span[1] <= bytes.count else { return "" }
        func piece(_ range: Range<Int>) -> String {
            escape(String(decoding: bytes[range], as: UTF8.self).replacingOccurrences(of: "\n", with: " "))
        }
        // Context and a long passage are cut at white space, so that no word is split (the
        // passage's own ends are word boundaries already).
        let before = span[0] > 120 ? boundary(bytes, from: span[0] - 120, to: span[0], afterSpace: true) : 0
        let end = span[1] - span[0] > 400 ? boundary(bytes, from: span[0] + 400, to: span[1], afterSpace: false) : span[1]
        let after = bytes.count - end > 120 ? boundary(bytes, from: end + 120, to: bytes.count, afterSpace: false) : bytes.count
        return (before > 0 ? "…" : "") + piece(before..<span[0]) + open + piece(span[0]..<end) + close + piece(end..<after)
            + (after < bytes.count ? "…" : "")
    }

    /// The first position in `from...to` that starts a word (`afterSpace`: follows white space)
    /// or ends one (is white space); `to` when there is none.
    static func boundary(_ bytes: [UInt8], from: Int, to: Int, afterSpace: Bool) -> Int {
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A || byte == 0x09 || byte == 0x0D }
        var position = from
        while position < to && !(afterSpace ? position > 0 && isSpace(bytes[position - 1]) : isSpace(bytes[position])) { position += 1 }
        return position
    }

    // MARK: HTML

    static func escapeHTML(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// Where vendors are named from a greater length than verdicts: which documents are unattributed.
    static func vendorLength(_ style: ScanSummary.Style) -> String {
        guard style.vendorMinimumWords > style.minimumWords else { return "" }
        return style.vendorMinimumWords >= StyleModel.noLength
            ? " The index's vendors read too much alike to name one: model-written documents are unattributed."
            : " Vendors are named from \(style.vendorMinimumWords) words; shorter model-written documents are unattributed."
    }

    /// A horizontal bar chart as inline SVG.
    static func barChart(_ rows: [(String, Double, String)], id: String, colour: String = "#3b6ea5") -> String {
        let height = 22
        let labelWidth = 260
        let barWidth = 420
        let maximum = max(rows.map(\.1).max() ?? 0, 1e-9)
        var svg = "<svg id=\"\(id)\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(labelWidth + barWidth + 90)\" height=\"\(max(rows.count, 1) * height + 4)\">"
        for (index, row) in rows.enumerated() {
            let y = index * height
            let width = max(1, Int(Double(barWidth) * row.1 / maximum))
            svg += "<text x=\"\(labelWidth - 6)\" y=\"\(y + 15)\" text-anchor=\"end\">\(escapeHTML(String(row.0.suffix(40))))</text>"
            svg += "<rect class=\"bar\" x=\"\(labelWidth)\" y=\"\(y + 3)\" width=\"\(width)\" height=\"\(height - 6)\" fill=\"\(colour)\"/>"
            svg += "<text x=\"\(labelWidth + width + 6)\" y=\"\(y + 15)\">\(escapeHTML(row.2))</text>"
        }
        return svg + "</svg>"
    }

    public func html() -> String {
        let totals = summary.totals
        var body = "<h1>echoscan report</h1>"
        body += "<p>Scanned \(summary.shards.count) shards, \(totals.documents) documents: <b>\(totals.flagged) flagged (\(percent(rate(totals))))</b>; status \(Self.escapeHTML(summary.status.rawValue)).<br>"
        body += "Index <code>\(Self.escapeHTML(summary.index.path))</code> (sha256 \(summary.index.sha256.prefix(16))…, \(summary.index.references) references); pipeline \(Self.escapeHTML(summary.pipeline.path ?? "defaults")); \(summary.startedAt) – \(summary.finishedAt) on \(Self.escapeHTML(summary.host)).</p>"
        body += "<h2>Flagged rate per shard</h2>" + Self.barChart(summary.shards.map { ($0.path, rate($0.counts), percent(rate($0.counts))) }, id: "shards", colour: "#c0392b")
        body += "<h2>Flagged documents by vendor</h2>" + Self.barChart(Self.sorted(totals.byVendor).map { ($0.0, Double($0.1), String($0.1)) }, id: "vendors")
        body += "<h2>Flagged documents by model</h2>" + Self.barChart(Self.sorted(totals.byModel).map { ($0.0, Double($0.1), String($0.1)) }, id: "models")
        let histogram = manifest.containmentHistogram.enumerated().map {
            (String(format: "%.1f–%.1f", Double($0.offset) / 10, Double($0.offset + 1) / 10), Double($0.element), String($0.element))
        }
        body += "<h2>Containment of best matches</h2>" + Self.barChart(histogram, id: "containment", colour: "#7d5ba6")
        if let style = summary.style {
            body += "<h2>Style profile</h2><p>Documents of \(style.minimumWords) words or more: \(style.totals.documents), by the vendor whose "
                + "models' style they read like (a likelihood, not evidence of a copy; 95% intervals).\(Self.vendorLength(style))</p>"
            body += Self.barChart(style.totals.shares.map { ($0.style, $0.share, "\(percent($0.share)) (\(percent($0.low)) – \(percent($0.high)))") },
                                  id: "style", colour: "#2e8b57")
            body += "<table><tr><th>phrase</th><th>documents</th><th>over-represented against human text</th></tr>"
            for phrase in style.totals.phrases {
                body += "<tr><td><code>\(Self.escapeHTML(phrase.phrase))</code></td><td>\(phrase.documents)</td><td>\(String(format: "%.1f×", phrase.lift))</td></tr>"
            }
            body += "</table>"
        }
        body += "<h2>Most-matched references</h2><table><tr><th>reference</th><th>model</th><th>documents</th></tr>"
        for (ref, model, count) in manifest.topReferences(10) {
            body += "<tr><td>\(Self.escapeHTML(ref))</td><td>\(Self.escapeHTML(model))</td><td>\(count)</td></tr>"
        }
        body += "</table><h2>Samples</h2>"
        for (entry, text) in samples {
            body += "<div class=\"sample\"><div class=\"where\">\(Self.escapeHTML(entry.shard)):\(entry.line) (\(Self.escapeHTML(entry.id ?? "no id"))) → \(Self.escapeHTML(entry.refID ?? "")) (\(Self.escapeHTML(entry.model ?? "")), \(Self.escapeHTML(entry.vendor ?? "")))</div>"
            body += "<p>" + Self.excerpt(text, spans: entry.spans, open: "<mark>", close: "</mark>", escape: Self.escapeHTML) + "</p></div>"
        }
        let style = """
            body{font-family:sans-serif;max-width:960px;margin:2em auto;color:#222}svg text{font-size:12px;fill:#222}
            table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
            mark{background:#ffe08a}.sample{border-left:4px solid #c0392b;padding:0 1em;margin:1em 0}.where{font-size:12px;color:#555}
            """
        return "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>echoscan report</title><style>\(style)</style></head><body>\(body)</body></html>\n"
    }

    /// Writes report.md and report.html into `directory`, atomically.
    public func write(to directory: String) throws {
        try AtomicFile.write(Array(markdown().utf8), to: directory + "/report.md")
        try AtomicFile.write(Array(html().utf8), to: directory + "/report.html")
    }
}
