/// Which counters of one sender have been accepted, in constant space.
///
/// Counters are nanosecond clock readings, so they are sparse and a bitmap over values (as in
/// IPsec or WireGuard) would cover only microseconds. Instead the window keeps the `capacity`
/// largest counters accepted. A counter above the largest is new; one below the largest but above
/// the smallest retained one is a reordered frame unless it is retained; anything at or below the
/// smallest retained one is refused, because it may have been accepted and evicted.
///
/// Invariant (tested as a property): no counter is ever accepted twice. An accepted counter stays
/// retained until a larger one evicts it as the minimum, and from then on the minimum is above it.
/// The minimum never decreases. An empty window accepts anything, which is why a window starts only
/// when its sender becomes a present member (see `FrameSession`).
struct ReplayWindow: Sendable, Equatable {
    static let capacity = 16

    /// Ascending; at most `capacity` elements.
    private(set) var retained: [UInt64] = []

    var highest: UInt64? { retained.last }

    /// Whether `counter` would be accepted, without recording it; used before the caller has
    /// decided to keep the frame.
    func admits(_ counter: UInt64) -> Bool {
        guard let lowest = retained.first, let highest = retained.last else { return true }
        if counter > highest { return true }
        return counter > lowest && !retained.contains(counter)
    }

    /// Records `counter` if the window admits it; returns whether it did.
    @discardableResult
    mutating func accept(_ counter: UInt64) -> Bool {
        guard admits(counter) else { return false }
        let index = retained.firstIndex { $0 > counter } ?? retained.endIndex
        retained.insert(counter, at: index)
        if retained.count > Self.capacity { retained.removeFirst() }
        return true
    }
}
