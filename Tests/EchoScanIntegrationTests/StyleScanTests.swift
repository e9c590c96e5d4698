@testable import EchoScan
import EchoScanTestSupport
import Foundation
import XCTest

/// What a scan writes of the style detector — manifest, attributes, summary, report, the style
/// flag — on the bundled samples.
final class StyleScanTests: XCTestCase {
    func testScanWritesStyleToAttributesManifestSummaryAndReport() throws {
        let dir = try TestSupport.temporaryDirectory()
        _ = try IndexBuilder().build(references: TestSupport.styleReferences, background: [TestSupport.styleBackground], output: dir + "/reference.idx")
        let minimumWords = try XCTUnwrap(try ReferenceIndex(path: dir + "/reference.idx").style).header.minimumWords
        var configuration = PipelineConfiguration()
        configuration.match.style.flag = true
        let shard = TestSupport.samples + "/corpus/shard-003.jsonl"
        let summary = try TestSupport.scan([shard], index: dir + "/reference.idx", output: dir + "/out", configuration: configuration, report: true)
        let style = try XCTUnwrap(summary.style)
        XCTAssertEqual(style.minimumWords, minimumWords)
        let header = try XCTUnwrap(try ReferenceIndex(path: dir + "/reference.idx").style).header
        XCTAssertEqual(style.totals.shares.map(\.style), (header.scoresModelWritten ? ["human"] : []) + ["openai", "google"]
                       + (header.vendorMinimumWords > header.minimumWords ? [StyleProfile.unattributed] : []))
        XCTAssertEqual(style.totals.shares.map(\.documents).reduce(0, +), style.totals.documents)
        for share in style.totals.shares { XCTAssertTrue(share.low <= share.share && share.share <= share.high) }

        // Every record of the shard has an attribute line; those of long enough texts carry the
        // style scores, as many as the summary counts.
        let texts = try TestSupport.lines(TestSupport.samples + "/corpus/shard-003.jsonl").map { line -> String in
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return try XCTUnwrap(object["text"] as? String)
        }
        let attributes = try TestSupport.lines(dir + "/out/attributes/echoscan/shard-003.jsonl")
        XCTAssertEqual(attributes.count, texts.count)
        var withVerdict = 0
        for (line, text) in zip(attributes, texts) {
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let spans = try XCTUnwrap(object["attributes"] as? [String: [[Double]]])
            let openai = try XCTUnwrap(spans["echoscan__style_openai"])
            let google = try XCTUnwrap(spans["echoscan__style_google"])
            XCTAssertEqual(openai.count, google.count)
            guard let span = openai.first ?? spans["echoscan__style_model_written"]?.first else { continue }
            withVerdict += 1
            XCTAssertEqual(span[0], 0)
            XCTAssertEqual(Int(span[1]), text.utf8.count)
            if let vendorSpan = openai.first { XCTAssertEqual(vendorSpan[2] + (google.first?[2] ?? 0), 1, accuracy: 1e-5) }
            XCTAssertEqual(spans["echoscan__style_model_written"]?.count, header.scoresModelWritten ? 1 : nil)
        }
        XCTAssertEqual(withVerdict, style.totals.documents)
        XCTAssertGreaterThan(withVerdict, 0)

        // With `style.flag`, documents past the model-written threshold are flagged by "style",
        // and every manifest line of a long enough text has its style.
        let modelWritten = summary.totals.style?.modelWritten ?? 0
        XCTAssertEqual(summary.totals.byDetector["style"] ?? 0, modelWritten)
        for line in try TestSupport.lines(dir + "/out/manifest.jsonl") {
            let record = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let detectors = try XCTUnwrap(record["detectors"] as? [String])
            if detectors.contains("style") {
                let style = try XCTUnwrap(record["style"] as? [String: Any])
                XCTAssertGreaterThanOrEqual(try XCTUnwrap(style["words"] as? Int), minimumWords)
                XCTAssertTrue(header.scoresModelWritten)
                XCTAssertNotNil(style["model_written"] as? Double)
                if style["words"] as? Int ?? 0 >= header.vendorMinimumWords {
                    XCTAssertEqual(Set((try XCTUnwrap(style["vendors"] as? [String: Double])).keys), ["openai", "google"])
                }
            }
        }
        let html = try String(contentsOfFile: dir + "/out/report.html", encoding: .utf8)
        XCTAssertTrue(html.contains("<h2>Style profile</h2>"))
        XCTAssertTrue(html.contains("<svg id=\"style\""))
        let first = style.totals.shares[0]
        XCTAssertTrue(try String(contentsOfFile: dir + "/out/report.md", encoding: .utf8).contains("| \(first.style) | \(first.documents) |"))

        // Style off: no style in the attributes or the summary, and nothing flagged by it.
        configuration.match.style.enabled = false
        let off = try TestSupport.scan([shard], index: dir + "/reference.idx", output: dir + "/off", configuration: configuration)
        XCTAssertNil(off.style)
        XCTAssertNil(off.totals.byDetector["style"])
        XCTAssertFalse(try TestSupport.lines(dir + "/off/attributes/echoscan/shard-003.jsonl").joined().contains("style"))
    }

    /// Vendors that read alike do not silence the model-written score: with a vendor accuracy no
    /// length reaches, texts still get one, and no vendor; the profile counts them unattributed.
    func testModelWrittenWithoutVendors() throws {
        let dir = try TestSupport.temporaryDirectory()
        var options = IndexBuildOptions()
        options.style.minimumAccuracy = 1.01
        _ = try IndexBuilder(options: options).build(references: TestSupport.styleReferences, background: [TestSupport.styleBackground], output: dir + "/reference.idx")
        let model = try XCTUnwrap(try ReferenceIndex(path: dir + "/reference.idx").style)
        XCTAssertEqual(model.header.vendorMinimumWords, StyleModel.noLength)
        XCTAssertTrue(StyleTrainer.lengthBounds.contains(model.header.minimumWords))
        XCTAssertTrue(model.header.scoresModelWritten)
        var scratch = StyleModel.Scratch()
        var text = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try TestSupport.lines(TestSupport.styleReferences[0])[0].utf8)) as? [String: Any])["text"] as? String ?? ""
        let verdict = try XCTUnwrap(text.withUTF8 { model.score($0, scratch: &scratch) })
        XCTAssertNotNil(verdict.modelWritten)
        XCTAssertEqual(verdict.vendorProbabilities, [])
        XCTAssertNil(model.vendor(of: verdict))

        let summary = try TestSupport.scan([TestSupport.samples + "/corpus/shard-003.jsonl"], index: dir + "/reference.idx",
                                           output: dir + "/out", report: true)
        XCTAssertTrue(try String(contentsOfFile: dir + "/out/report.md", encoding: .utf8).contains("model-written documents are unattributed"))
        let style = try XCTUnwrap(summary.style)
        XCTAssertEqual(style.totals.shares.map(\.style), ["human", "openai", "google", StyleProfile.unattributed])
        XCTAssertEqual(style.totals.shares.last?.documents, summary.totals.style?.modelWritten)
        XCTAssertGreaterThan(summary.totals.style?.modelWritten ?? 0, 0)
        var withStyle = 0
        for line in try TestSupport.lines(dir + "/out/manifest.jsonl") {
            let record = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            guard let style = record["style"] as? [String: Any] else { continue }
            withStyle += 1
            XCTAssertNotNil(style["model_written"] as? Double)
            XCTAssertNil(style["vendor"])
            XCTAssertNil(style["vendors"])
        }
        XCTAssertGreaterThan(withStyle, 0)
        var modelWritten = 0
        for line in try TestSupport.lines(dir + "/out/attributes/echoscan/shard-003.jsonl") {
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let spans = try XCTUnwrap(object["attributes"] as? [String: [[Double]]])
            XCTAssertEqual(spans["echoscan__style_openai"]?.count, 0)
            XCTAssertEqual(spans["echoscan__style_google"]?.count, 0)
            modelWritten += spans["echoscan__style_model_written"]?.count ?? 0
        }
        XCTAssertEqual(modelWritten, style.totals.documents)
        // A summary without `vendor_minimum_words` (written by an earlier echoscan) still reads.
        var json = try XCTUnwrap(try JSONSerialization.jsonObject(with: try JSONEncoder().encode(style)) as? [String: Any])
        json["vendor_minimum_words"] = nil
        let earlier = try JSONDecoder().decode(ScanSummary.Style.self, from: try JSONSerialization.data(withJSONObject: json))
        XCTAssertEqual(earlier.vendorMinimumWords, style.minimumWords)
        XCTAssertEqual(earlier.totals, style.totals)
    }
}
