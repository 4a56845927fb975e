/// One simulated run: a converged mesh of `nodes` members, then a measured steady state, a join,
/// a crash and optionally a partition, all over a seeded lossy network.
public struct SimulationConfig: Sendable {
    public var nodes = 1000
    public var seed: UInt64 = 1
    public var gossip = GossipConfig()
    /// Probability that any one message is lost.
    public var loss = 0.0
    /// One-way latency, uniform in this range.
    public var latencyMin: Duration = .milliseconds(5)
    public var latencyMax: Duration = .milliseconds(50)
    /// Size of each member's opaque record payload; a signed node record with two endpoints and a
    /// few routes is about this big.
    public var payloadBytes = 200
    /// Time for epochs and acknowledgements to settle before anything is measured.
    public var warmup: Duration = .seconds(4)
    /// Length of the steady-state traffic measurement.
    public var steadyWindow: Duration = .seconds(10)
    /// Longest a phase may take before it is reported as not completed.
    public var phaseTimeout: Duration = .seconds(60)
    /// How long to keep running after the crash was pruned everywhere, to catch late false prunes.
    public var settle: Duration = .seconds(3)
    /// Crash the leader instead of an ordinary member, to measure failover.
    public var crashLeader = false
    /// When set, the live members are split in two halves for this long, then healed.
    public var partition: Duration?
    /// How many existing members the newcomer is given as bootstrap peers.
    public var bootstrapPeers = 1

    public init() {}
}

/// The numbers one run produced. Times are simulated seconds from the start of the phase; nil
/// means the phase did not complete within `phaseTimeout`.
public struct SimulationReport: Sendable {
    public var nodes: Int
    public var seed: UInt64
    public var syncInterval: Double
    public var heartbeatInterval: Double
    /// Seconds until the newcomer's record was present at 50%, 99% and 100% of the members.
    public var joinSeconds: [Double?] = [nil, nil, nil]
    /// Seconds until the crashed member was pruned by 99% and 100% of the live members.
    public var pruneSeconds: [Double?] = [nil, nil]
    /// Prunes of members that had not crashed (outside a deliberate partition).
    public var falsePrunes = 0
    /// Bytes sent per node per second during the steady window: mean and busiest node.
    public var steadyBytesPerNodeMean = 0.0
    public var steadyBytesPerNodeMax = 0.0
    public var steadyMessagesPerNodeMean = 0.0
    /// The node that sent plus received the most during the steady window, in bytes per second:
    /// where a protocol's hotspot shows (the leader, when everyone answers it).
    public var steadyBusiestInPerSecond = 0.0
    public var steadyBusiestOutPerSecond = 0.0
    /// Bytes sent from the moment a partition healed until the end of its settling time: mean
    /// per node and the busiest node.
    public var healBytesPerNodeMean: Double?
    public var healBytesPerNodeMax: Double?
    /// Seconds after the partition healed until every live member saw every other one.
    public var partitionHealSeconds: Double?
    /// Whether all live replicas ended with the same summary.
    public var converged = false
    public var simulatedSeconds = 0.0
    public var eventsProcessed = 0
    public var rejections = 0
    /// Bytes sent over the whole run, per message kind (digest, buckets, delta, ...).
    public var bytesByKind: [String: Int] = [:]

    /// Join times expressed in gossip rounds.
    public var joinRounds: [Double?] { joinSeconds.map { $0.map { $0 / syncInterval } } }

    /// The bar for pruning a crashed member: 3 heartbeat intervals plus 2 seconds.
    public var pruneBarSeconds: Double { 3 * heartbeatInterval + 2 }
}

/// What a mass join produced (`Simulator.runMassJoin`).
public struct MassJoinReport: Sendable {
    public var joiners: Int
    public var seed: UInt64
    /// Seconds from the first join until every member held every other one; nil: not within
    /// the phase timeout.
    public var settledSeconds: Double?
    /// Prunes seen by any member, summed over members: all of them false.
    public var prunes = 0
    /// Changes of the followed leader, summed over members.
    public var leaderChanges = 0
    /// Distinct leaders followed at the end: 1 once settled.
    public var leaders = 0
    public var converged = false
}
