@testable import EchoScan
import Foundation
import XCTest

/// The on-disk sort that index builds and dedup rely on, against the standard library's sort.
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
}
