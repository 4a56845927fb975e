/// A min-heap of timed events, ordered by time and then by insertion, so that runs replay exactly.
///
/// The heap holds only small keys; payloads sit in a slot array with a free list, which keeps the
/// sift operations cheap with millions of in-flight messages. Public for the daemon's own
/// in-process harness (`SimulatedMesh` in SmegdTests), which drives real frames over it.
public struct EventQueue<Payload> {
    private struct Key {
        var time: UInt64
        var sequence: UInt64
        var slot: Int

        func precedes(_ other: Key) -> Bool {
            time != other.time ? time < other.time : sequence < other.sequence
        }
    }

    private var heap: [Key] = []
    private var payloads: [Payload?] = []
    private var free: [Int] = []
    private var sequence: UInt64 = 0

    public init() {}

    public var isEmpty: Bool { heap.isEmpty }
    public var count: Int { heap.count }
    public var nextTime: UInt64? { heap.first?.time }

    public mutating func push(_ payload: Payload, at time: UInt64) {
        let slot: Int
        if let reused = free.popLast() {
            slot = reused
            payloads[slot] = payload
        } else {
            slot = payloads.count
            payloads.append(payload)
        }
        sequence += 1
        heap.append(Key(time: time, sequence: sequence, slot: slot))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    public mutating func pop() -> (time: UInt64, payload: Payload)? {
        guard let top = heap.first else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                guard left < heap.count else { break }
                var best = left
                if left + 1 < heap.count && heap[left + 1].precedes(heap[left]) { best = left + 1 }
                guard heap[best].precedes(heap[parent]) else { break }
                heap.swapAt(best, parent)
                parent = best
            }
        }
        let payload = payloads[top.slot]!
        payloads[top.slot] = nil
        free.append(top.slot)
        return (top.time, payload)
    }
}
