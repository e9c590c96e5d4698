@testable import EchoScan
import Foundation
import XCTest

/// The scan's worker pipeline: results reach the consumer in input order, batch by batch, whatever
/// the thread count and however unevenly the items take time.
final class OrderedStreamTests: XCTestCase {
    final class Source: @unchecked Sendable {
        private let lock = NSLock()
        private var batches: [[Int]]
        init(_ batches: [[Int]]) { self.batches = batches }
        func next() -> [Int]? {
            lock.lock()
            defer { lock.unlock() }
            return batches.isEmpty ? nil : batches.removeFirst()
        }
    }

    func testResultsArriveInInputOrderWithEmptyAndUnevenBatches() {
        var generator = SplitMix64(seed: 7)
        // Sizes include empty batches and batches smaller than a chunk.
        let sizes = (0..<40).map { _ in Int(generator.next() % 50) } + [0, 1, 0, 300]
        var next = 0
        let batches = sizes.map { size -> [Int] in
            defer { next += size }
            return Array(next..<(next + size))
        }
        for threads in [1, 2, 4] {
            let source = Source(batches)
            var consumed: [[Int]] = []
            OrderedStream<[Int], Int>(threads: threads, chunkSize: 3, batchesAhead: 1).run(
                next: { source.next() },
                count: { $0.count },
                makeState: { 0 },
                transform: { calls, batch, index in
                    calls += 1
                    // Some items take far longer than others, so chunks finish out of order.
                    if batch[index] % 7 == 0 { usleep(200) }
                    return batch[index] * 2
                },
                consume: { batch, results in
                    XCTAssertEqual(results, batch.map { $0 * 2 }, "results of a batch in its order")
                    consumed.append(batch)
                })
            XCTAssertEqual(consumed, batches, "every batch once, in order, with \(threads) threads")
        }
    }
}
