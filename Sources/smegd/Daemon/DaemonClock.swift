import GossipCRDT

/// The daemon's monotonic time, as the protocol engine wants it: nanoseconds since start.
struct DaemonClock: Sendable {
    let start = ContinuousClock.now

    func now() -> GossipCRDT.Instant {
        let elapsed = ContinuousClock.now - start
        return GossipCRDT.Instant(nanoseconds: elapsed.nanoseconds)
    }
}
