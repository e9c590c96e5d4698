@testable import EchoScan
import XCTest
import EchoScanTestSupport

/// The report's highlighted samples cut long passages and their context at word boundaries.
final class ReportTests: XCTestCase {
    func testExcerptsNeverSplitAWord() throws {
        let line = try XCTUnwrap(try TestSupport.lines(TestSupport.samples + "/references/arena-hard__gpt-4-0314.jsonl").first)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let text = try XCTUnwrap(object["text"] as? String)
        let flat = " " + text.replacingOccurrences(of: "\n", with: " ")
        let bytes = Array(text.utf8)
        XCTAssertGreaterThan(bytes.count, 900)
        // Passages from a word start to a word end, longer and shorter than the 400 bytes shown,
        // at every word start up to byte 300.
        let starts = (1..<300).filter { bytes[$0 - 1] == 0x20 && bytes[$0] != 0x20 }
        XCTAssertGreaterThan(starts.count, 30)
        for start in starts {
            for target in [start + 450, start + 60] {
                guard let end = (target..<bytes.count).first(where: { bytes[$0] == 0x20 }) else { continue }
                let excerpt = ScanReport.excerpt(text, spans: [[start, end]], open: "[[", close: "]]")
                let closed = try XCTUnwrap(excerpt.firstRange(of: "]]"), excerpt)
                let next = excerpt[closed.upperBound...].first
                XCTAssertTrue(next == nil || next == " " || next == "…", "cut inside a word: «\(excerpt[closed.lowerBound...].prefix(20))»")
                let marked = excerpt.replacingOccurrences(of: "[[", with: "").replacingOccurrences(of: "]]", with: "")
                let shown = marked.hasPrefix("…") ? String(marked.dropFirst()) : marked
                XCTAssertTrue(flat.contains(" " + shown.prefix(40)), "context starts inside a word: «\(shown.prefix(40))»")
            }
        }
    }
}
