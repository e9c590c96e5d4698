import Foundation

/// A first-in first-out queue of bounded length between one producer and one consumer thread:
/// the producer blocks while it is full, which bounds the memory of batches in flight.
final class BoundedQueue<Element: Sendable>: @unchecked Sendable {
    private var items: [Element] = []
    private let condition = NSCondition()
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    func push(_ item: Element) {
        condition.lock()
        while items.count >= capacity { condition.wait() }
        items.append(item)
        condition.broadcast()
        condition.unlock()
    }

    func pop() -> Element {
        condition.lock()
        while items.isEmpty { condition.wait() }
        let item = items.removeFirst()
        condition.broadcast()
        condition.unlock()
        return item
    }
}
