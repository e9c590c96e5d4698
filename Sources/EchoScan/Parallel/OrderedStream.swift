import Foundation

/// Maps the items of a stream of batches on `threads` worker threads and hands each batch's
/// results to the calling thread in input order.
///
/// Unlike one `Parallel.map` per batch, workers never wait for a batch to finish: a worker that
/// runs out of work in one batch takes chunks of the next while the others finish, and the
/// caller's in-order consumption (writing output) overlaps the workers' mapping. At most
/// `batchesAhead` batches past the one being consumed are in flight, which bounds memory.
///
/// Streams that run at once (a scan's shards) may share one `WorkerBudget`: their workers then
/// map at most as many chunks at a time as it allows, so that the machine's cores are never
/// oversubscribed however many streams run.
final class OrderedStream<Batch, Result>: @unchecked Sendable {
    private struct Pending {
        let batch: Batch
        var results: [Result?]
        var remaining: Int
    }

    private let condition = NSCondition()
    /// Batches pulled and not yet consumed, by sequence number.
    private var pending: [Int: Pending] = [:]
    /// The batch workers take chunks from: its sequence number, item count and next item.
    private var current: (sequence: Int, count: Int, next: Int)? = nil
    private var pulled = 0
    private var consumed = 0
    private var pulling = false
    private var inputEnded = false

    private let threads: Int
    private let chunkSize: Int
    private let batchesAhead: Int
    private let budget: WorkerBudget?

    init(threads: Int, chunkSize: Int = 8, batchesAhead: Int = 2, budget: WorkerBudget? = nil) {
        self.threads = max(1, threads)
        self.chunkSize = max(1, chunkSize)
        self.batchesAhead = max(1, batchesAhead)
        self.budget = budget
    }

    /// Runs the stream to its end. `next` returns the next batch or nil at the end (called by
    /// one worker at a time, outside any lock, so it may block on a reader); `transform` maps
    /// item `index` of a batch with the worker's own `State`; `consume` gets each batch with its
    /// results, on the calling thread, in the order `next` returned them.
    func run<State>(
        next: @escaping @Sendable () -> Batch?,
        count: @escaping @Sendable (Batch) -> Int,
        makeState: @escaping @Sendable () -> State,
        transform: @escaping @Sendable (inout State, Batch, Int) -> Result,
        consume: (Batch, [Result]) -> Void
    ) {
        let workers = DispatchGroup()
        for _ in 0..<threads {
            let thread = Thread { [self] in
                var state = makeState()
                while let chunk = take(next: next, count: count) {
                    // The permit is held while mapping only, never while waiting for a batch.
                    budget?.acquire()
                    let results = chunk.range.map { transform(&state, chunk.batch, $0) }
                    budget?.release()
                    deliver(results, sequence: chunk.sequence, at: chunk.range.lowerBound)
                }
                workers.leave()
            }
            thread.stackSize = 1 << 22
            workers.enter()
            thread.start()
        }
        while let done = nextConsumable() {
            consume(done.batch, done.results)
        }
        workers.wait()
    }

    /// The next chunk for a worker, pulling a new batch when the current one is handed out;
    /// nil when the input has ended.
    private func take(next: @Sendable () -> Batch?, count: (Batch) -> Int) -> (sequence: Int, batch: Batch, range: Range<Int>)? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let chunk = current, chunk.next < chunk.count, let batch = pending[chunk.sequence]?.batch {
                let end = min(chunk.count, chunk.next + chunkSize)
                current = (chunk.sequence, chunk.count, end)
                return (chunk.sequence, batch, chunk.next..<end)
            }
            if inputEnded { return nil }
            if pulling || pulled - consumed > batchesAhead {
                condition.wait()
                continue
            }
            pulling = true
            condition.unlock()
            let batch = next()
            condition.lock()
            pulling = false
            defer { condition.broadcast() }
            guard let batch else {
                inputEnded = true
                return nil
            }
            let items = count(batch)
            pending[pulled] = Pending(batch: batch, results: Array(repeating: nil, count: items), remaining: items)
            current = (pulled, items, 0)
            pulled += 1
        }
    }

    private func deliver(_ results: [Result], sequence: Int, at start: Int) {
        condition.lock()
        defer { condition.unlock() }
        for (offset, result) in results.enumerated() { pending[sequence]?.results[start + offset] = result }
        pending[sequence]?.remaining -= results.count
        if pending[sequence]?.remaining == 0 && sequence == consumed { condition.broadcast() }
    }

    /// The oldest batch once all its results are in; nil after the last one.
    private func nextConsumable() -> (batch: Batch, results: [Result])? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let done = pending[consumed], done.remaining == 0 {
                pending[consumed] = nil
                consumed += 1
                condition.broadcast()
                return (done.batch, done.results.compactMap { $0 })
            }
            if inputEnded && pending[consumed] == nil { return nil }
            condition.wait()
        }
    }
}

/// How many workers of all the streams that share it map at once: one per thread the run was
/// given.
final class WorkerBudget: Sendable {
    private let permits: DispatchSemaphore

    init(threads: Int) { permits = DispatchSemaphore(value: max(1, threads)) }

    func acquire() { permits.wait() }
    func release() { permits.signal() }
}
