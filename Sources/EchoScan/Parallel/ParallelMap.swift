import Dispatch
import Foundation

/// Slots that concurrent workers fill by index, each index written by exactly one worker.
///
/// That discipline — not a lock — makes it safe, hence `@unchecked Sendable`.
final class Slots<Element>: @unchecked Sendable {
    private let storage: UnsafeMutableBufferPointer<Element?>

    init(count: Int) {
        storage = .allocate(capacity: count)
        storage.initialize(repeating: nil)
    }

    deinit {
        storage.deinitialize()
        storage.deallocate()
    }

    subscript(index: Int) -> Element? {
        get { storage[index] }
        set { storage[index] = newValue }
    }

    /// Takes every slot's value out, in index order.
    func take() -> [Element] {
        (0..<storage.count).compactMap { index in
            let value = storage[index]
            storage[index] = nil
            return value
        }
    }
}

/// A counter handed out under a lock: workers take the next chunk from it.
final class WorkCounter: @unchecked Sendable {
    private var next = 0
    private let lock = NSLock()

    func take() -> Int {
        lock.lock()
        defer { lock.unlock() }
        next += 1
        return next - 1
    }
}

/// Runs work over `0..<count` on Dispatch's concurrent pool: `threads` workers take contiguous
/// chunks from a shared counter, so a slow chunk does not hold the others back.
enum Parallel {
    /// Maps every index of `0..<count` with `transform`, `threads` chunks at a time; the result
    /// is in index order whatever the thread count. `makeState` builds one scratch value per chunk
    /// (reusable buffers), so workers share nothing mutable.
    static func map<State, Result>(
        count: Int, threads: Int, makeState: @Sendable () -> State,
        _ transform: @Sendable (inout State, Int) -> Result
    ) -> [Result] {
        guard count > 0 else { return [] }
        let chunks = max(1, min(count, threads * 8))
        let slots = Slots<[Result]>(count: chunks)
        let counter = WorkCounter()
        DispatchQueue.concurrentPerform(iterations: max(1, min(threads, chunks))) { _ in
            var state = makeState()
            while case let chunk = counter.take(), chunk < chunks {
                let lower = chunk * count / chunks
                let upper = (chunk + 1) * count / chunks
                var results: [Result] = []
                results.reserveCapacity(upper - lower)
                for index in lower..<upper { results.append(transform(&state, index)) }
                slots[chunk] = results
            }
        }
        return slots.take().flatMap { $0 }
    }
}
