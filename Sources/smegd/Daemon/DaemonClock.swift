import Glibc
import GossipCRDT

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The daemon's monotonic time, as the protocol engine wants it: nanoseconds since start.
struct DaemonClock: Sendable {
    let start = ContinuousClock.now

    func now() -> GossipCRDT.Instant {
        let elapsed = ContinuousClock.now - start
        return GossipCRDT.Instant(nanoseconds: elapsed.nanoseconds)
    }

    /// Milliseconds since the epoch: only to measure a downtime across a restart, which the
    /// monotonic clock cannot.
    static func wallMillis() -> UInt64 {
        UInt64(clamping: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)))
    }
}
