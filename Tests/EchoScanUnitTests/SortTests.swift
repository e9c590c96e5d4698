@testable import EchoScan
import Foundation
import XCTest
import EchoScanTestSupport

/// The on-disk sort that index builds and dedup rely on, against the standard library's sort; and
/// the dedup band file that feeds the bucket tasks.
final class SortTests: XCTestCase {
    func testExternalSortMatchesAnInMemorySortAcrossSpilledRuns() throws {
        var random = SplitMix64(seed: 42)
        // Keys drawn from a small pool as well as the full range, so that equal keys with
        // different values meet inside a run and across runs.
        let pool = (0..<64).map { _ in random.next() }
        let entries: [ExternalSorter.Entry] = (0..<50_000).map { index in
            let key = index % 3 == 0 ? pool[Int(random.next() % 64)] : random.next()
            return (key, random.next() % 1_000)
        }
        let dir = try TestSupport.temporaryDirectory()
        var sorter = ExternalSorter(directory: dir, name: "test", runEntries: 3_000)
        for entry in entries { try sorter.append(entry.key, entry.value) }
        XCTAssertGreaterThan(try FileManager.default.contentsOfDirectory(atPath: dir).count, 10)
        var merged: [ExternalSorter.Entry] = []
        try sorter.forEachSorted { merged.append($0) }
        let expected = entries.sorted { $0.key != $1.key ? $0.key < $1.key : $0.value < $1.value }
        XCTAssertEqual(merged.map(\.key), expected.map(\.key))
        XCTAssertEqual(merged.map(\.value), expected.map(\.value))
        // The runs are deleted once read.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [])
    }

    /// The dedup band file: keys written a document at a time come back band by band, with each
    /// document's record number and token count, across the writer's batches; a truncated file is
    /// refused with its path.
    func testBandFileReturnsEachBandInDocumentOrder() throws {
        let dir = try TestSupport.temporaryDirectory()
        let keysPerDocument = 17
        let documents = 10_001  // more than two of the writer's batches, and an odd token section
        var generator = SplitMix64(seed: 3)
        let tokens = (0..<documents).map { _ in Int(generator.next() % 500) }
        let keys = (0..<documents).map { _ in (0..<keysPerDocument).map { _ in generator.next() } }
        let path = dir + "/000000.bands"
        try AtomicFile.write(to: path) { sink in
            let writer = try BandFile.Writer(folder: dir + "/scratch", keysPerDocument: keysPerDocument)
            for document in 0..<documents { writer.append(tokens: tokens[document], keys: keys[document]) }
            try writer.finish(into: sink)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/scratch"), "scratch files removed")
        let file = try BandFile(path: path)
        XCTAssertEqual(file.count, documents)
        for key in [0, 7, keysPerDocument - 1] {
            var seen: [(Int, Int, UInt64)] = []
            try file.forEachKey(key) { seen.append(($0, $1, $2)) }
            XCTAssertEqual(seen.map(\.0), Array(0..<documents))
            XCTAssertEqual(seen.map(\.1), tokens)
            XCTAssertEqual(seen.map(\.2), keys.map { $0[key] })
        }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try bytes.dropLast(8).write(to: URL(fileURLWithPath: dir + "/truncated.bands"))
        XCTAssertThrowsError(try BandFile(path: dir + "/truncated.bands")) { error in
            XCTAssertTrue("\(error)".contains("truncated.bands"), "\(error)")
        }
    }
}
