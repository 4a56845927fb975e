/// How far behind the daemon is in handling the gossip datagrams it has received.
///
/// One thread takes datagrams from the kernel as they come and queues them; the meshes handle
/// them in turn. When the host cannot keep up (a fleet of a hundred daemons joining on two
/// cores), the queue holds seconds of acknowledgements that the leader has not read yet, while
/// its clock keeps running: judged on what it has read, live members look dead. Measured on
/// 99 daemons on two cores, the median daemon fell 17 s behind (the leader 15 s), every member
/// pruned every other, and the republishing fed the queue: it never settled.
///
/// So a datagram that waited longer than `staleAfter` is dropped unread, like a queue that
/// manages its delay rather than its length (CoDel): gossip is built to lose datagrams, a stale
/// heartbeat or digest only repeats what a newer one says, and the work the daemon does is then
/// on input at most a second old. Dropping costs nothing (no decryption), so overload turns into
/// loss, which the protocol tolerates, instead of into delay, which it cannot tell from death.
struct InputBacklog: Sendable {
    /// Datagrams handled since start.
    private(set) var handled = 0
    /// The largest lag since the gauge was last set, and when it was.
    private(set) var windowMax: Duration = .zero
    private var windowStart: ContinuousClock.Instant?
    private var warnedAt: ContinuousClock.Instant?

    static let gaugePeriod: Duration = .seconds(1)
    /// Older datagrams are dropped unread: an epoch's heartbeat interval.
    static let staleAfter: Duration = .seconds(1)
    /// Lag that earns a warning in the log, and how often at most.
    static let warnAbove: Duration = .seconds(1)
    static let warnEvery: Duration = .seconds(60)

    /// What one handled datagram says.
    struct Reading: Equatable, Sendable {
        /// How long the datagram waited, when others still wait behind it; zero when it was the
        /// last one queued, since then nothing that arrived is unread.
        var behind: Duration
        /// Datagrams still queued behind it.
        var waiting: Int
        /// The window's largest lag, once a gauge period has passed: set the gauge to it.
        var gauge: Duration?
        /// Set when the lag deserves a line in the log.
        var warn: Bool
        /// Drop the datagram unread: it waited longer than `staleAfter`.
        var stale: Bool
    }

    /// `received` and `dropped` are the socket's counters, read after taking this datagram.
    mutating func handle(
        receivedAt: ContinuousClock.Instant, now: ContinuousClock.Instant, received: Int, dropped: Int
    ) -> Reading {
        handled &+= 1
        let waiting = max(0, received &- dropped &- handled)
        let age = now > receivedAt ? now - receivedAt : .zero
        let behind = waiting > 0 ? age : .zero
        windowMax = max(windowMax, behind)
        var gauge: Duration?
        let start = windowStart ?? now
        windowStart = start
        if now - start >= Self.gaugePeriod {
            gauge = windowMax
            windowMax = .zero
            windowStart = now
        }
        var warn = false
        if behind >= Self.warnAbove, warnedAt.map({ now - $0 >= Self.warnEvery }) ?? true {
            warn = true
            warnedAt = now
        }
        return Reading(behind: behind, waiting: waiting, gauge: gauge, warn: warn, stale: age > Self.staleAfter)
    }
}
