import ArgumentParser
import EchoScan
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show one document with its matched passages highlighted beside the matched reference text.")

    @Option(help: "The reference index.")
    var index: String

    @Option(help: "Pipeline file with detector thresholds.")
    var pipeline: String?

    @Option(help: "How many matches to show.")
    var matches = 1

    @Option(help: "The record's segment, as the manifest's \"field\" names it (default: its first).")
    var field: String?

    @OptionGroup var reader: ReaderArguments

    @Flag(help: "Mark passages with [[ ]] instead of terminal colours.")
    var plain = false

    @Argument(help: "SHARD:LINE, e.g. shard-000.jsonl.zst:17 (1-based line).")
    var location: String

    func run() throws {
        guard let colon = location.lastIndex(of: ":"), let line = Int(location[location.index(after: colon)...]), line >= 1 else {
            throw ValidationError("expected SHARD:LINE, got \(location)")
        }
        let shard = String(location[..<colon])
        var configuration = try loadPipeline(pipeline)
        configuration.match.maximumMatchesReported = max(matches, 1)
        let opened = try openIndex(index)
        let matcher = Matcher(index: opened, options: configuration.match, markers: try configuration.loadMarkers())
        var found: (text: [UInt8], id: String?)? = nil
        let result = ShardReader(path: shard, options: reader.options(over: configuration.reader)).read { batch in
            if found == nil, let document = batch.documents.first(where: { $0.line == line && (field == nil || $0.field == field) }) {
                found = (Array(batch.bytes[document.textRange]), document.id)
            }
        }
        guard let (text, id) = found else {
            let reason = result.fatalError?.description ?? result.errors.first { $0.line == line }?.description
                ?? "\(shard) has no document at line \(line)"
            throw CommandError(reason)
        }
        var scratch = Matcher.Scratch()
        let verdict = text.withUnsafeBufferPointer { matcher.match($0, scratch: &scratch) }
        let colour = !plain && isatty(1) == 1
        print("document \(shard):\(line) id \(id ?? "null"): \(verdict.tokenCount) words; detectors: \(verdict.detectors.isEmpty ? "none" : verdict.detectors.joined(separator: ", "))")
        for marker in verdict.markers { print("  marker \"\(marker.phrase)\" (\(marker.vendor)) at \(marker.span.lowerBound)..<\(marker.span.upperBound)") }
        let rate = configuration.match.maximumFalseMatchRate
        let needed = opened.nullModel.model(forLength: verdict.tokenCount).threshold(forRate: rate)
        print(String(format: "  evidence needed at a false-match rate of %g for a text of this length: %.1f", rate, needed))
        if verdict.matches.isEmpty { print("no reference matches") }
        for match in verdict.matches.prefix(matches) {
            let representative = opened.representative(ofGroup: match.group)
            let reference = opened.reference(representative)
            print("""

                match \(reference.id) — \(reference.model) (\(reference.vendor)): score \(fmt(match.score)), \
                false-match probability \(String(format: "%.2g", match.falseMatchProbability)), jaccard \(fmt(match.jaccard)), \
                containment \(fmt(match.containment)), doc coverage \(fmt(match.documentCoverage)), \(match.matchedWords) matched words
                """)
            for member in opened.members(ofGroup: match.group).dropFirst() {
                let other = opened.reference(member)
                print("  also \(other.id) — \(other.model) (\(other.vendor))")
            }
            print("\n--- document (matched passages highlighted)")
            print(highlight(text, spans: match.spans, colour: colour))
            guard let referenceText = opened.text(ofReference: representative) else { continue }
            var tokens = TokenSequence()
            var bytes = Array(referenceText.utf8)
            bytes.withUnsafeBufferPointer { matcher.fingerprinter.tokenizer.tokenize($0, into: &tokens) }
            print("\n--- reference \(reference.id)")
            print(highlight(bytes, spans: Matcher.byteSpans(of: match.referenceRuns, tokens: tokens), colour: colour))
            bytes = []
        }
    }

    func fmt(_ value: Double) -> String { String(format: "%.3f", value) }

    func highlight(_ text: [UInt8], spans: [Range<Int>], colour: Bool) -> String {
        let open = colour ? "\u{1B}[1;33m" : "[["
        let close = colour ? "\u{1B}[0m" : "]]"
        var output = ""
        var cursor = 0
        for span in spans where span.lowerBound >= cursor && span.upperBound <= text.count {
            output += String(decoding: text[cursor..<span.lowerBound], as: UTF8.self)
            output += open + String(decoding: text[span], as: UTF8.self) + close
            cursor = span.upperBound
        }
        output += String(decoding: text[cursor...], as: UTF8.self)
        return output
    }
}
