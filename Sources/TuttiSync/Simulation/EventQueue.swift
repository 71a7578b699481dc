import TuttiTiming

/// A min-heap of timed events for the simulations; equal times pop in insertion order.
struct EventQueue<Event: Sendable>: Sendable {
    private var heap: [(time: Nanos, order: Int, event: Event)] = []
    private var counter = 0

    var isEmpty: Bool { heap.isEmpty }

    mutating func push(_ event: Event, at time: Nanos) {
        counter += 1
        heap.append((time, counter, event))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.less(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> (time: Nanos, event: Event)? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < heap.count, Self.less(heap[left], heap[smallest]) { smallest = left }
            if right < heap.count, Self.less(heap[right], heap[smallest]) { smallest = right }
            if smallest == parent { break }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
        return (top.time, top.event)
    }

    private static func less(_ a: (time: Nanos, order: Int, event: Event), _ b: (time: Nanos, order: Int, event: Event)) -> Bool {
        a.time != b.time ? a.time < b.time : a.order < b.order
    }
}
