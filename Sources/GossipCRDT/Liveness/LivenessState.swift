/// What a node knows about heartbeat epochs. None of it is replicated state: liveness never
/// touches record versions, so a steady mesh exchanges no entries at all.
struct LivenessState: Sendable {
    /// The newest epoch of the leader we follow.
    var epoch: EpochStamp?
    /// When we last adopted a new epoch (or started): the leader's silence is measured from here.
    var heardAt: Instant?
    /// The highest epoch number accepted (from a verified heartbeat, a probe of its own leader,
    /// or our own epochs), so a new leader continues above it. Numbers merely claimed in a digest
    /// never raise it: that is what let one forged datagram push every leader to 2^64.
    var highestNumber: UInt64 = 0
    /// The reference of the epoch bound: an accepted number and when it was accepted. Epochs
    /// may run ahead of it only as fast as time does.
    var boundNumber: UInt64 = 0
    var highestAt: Instant?
    /// Whether this node's own epochs say anything about the mesh's line: it followed another
    /// leader's epoch, another member acknowledged one of ours, or it restored a saved line.
    /// A node that restarted (or joined) and leads alone numbers from what it last knew, or
    /// from nothing; while unanchored its own epochs must not become the bound's reference,
    /// or the real leader's line, far ahead, would look forged to it for good.
    var anchored = false
    /// The signed heartbeat of the epoch we follow, forwarded to members that are behind. Nil
    /// when the epoch was learnt from a probe (unsigned, but authenticated by its frame).
    var signed: Heartbeat?
    /// Leaders presumed failed after silence; skipped when choosing whom to follow.
    var suspects: Set<NodeID> = []
    /// Present only while we lead.
    var book: LeaderBook?
    /// We stopped leading and have not yet passed our successor's signed heartbeat to every
    /// member: those that count the successor young accept it only from us (`isVouched`).
    var handingOver = false
    /// Per tombstoned member: the epoch from which every live member was known to hold the
    /// tombstone. Compaction waits `tombstoneRetentionEpochs` after it.
    var stableSince: [NodeID: UInt64] = [:]
    /// Members that appeared through gossip since this node started, with when: they may lead
    /// only once `GossipConfig.provenAfter` has passed. Members restored from disk are not here,
    /// so a restarted node trusts the leaders it knew at once.
    var presentSince: [NodeID: UInt64] = [:]
    /// New epochs this node has adopted (its own included): the clock of `presentSince`.
    var epochsAdopted: UInt64 = 0
    /// The node started from a saved replica with other members in it.
    var restored = false
    /// The last few leaders whose epochs this node followed. A prune of a present member is
    /// accepted from them (a removal the previous leader issued just before a handover is as
    /// valid as the current leader's), and from nobody else.
    var recentLeaders: [NodeID] = []
}

/// The leader's record of acknowledgements.
struct LeaderBook: Sendable {
    struct Acked: Sendable {
        /// Newest epoch the member acknowledged.
        var epoch: UInt64
        /// The member's summary hash in that acknowledgement.
        var summaryHash: UInt64
    }

    var current: UInt64
    var openedAt: Instant
    /// Our summary hash when the epoch opened; the stability check compares acks against it.
    var openSummary: UInt64
    var deadlinePassed = false
    /// Every present member but us.
    var acks: [NodeID: Acked] = [:]
    /// Members that missed the current epoch's deadline: probed every tick until they answer.
    var laggards: [NodeID] = []
    /// Probes go out once per gossip round, not on every tick.
    var nextProbe = Instant.zero
    /// Announced with the next epoch (0 for none).
    var stableSummary: UInt64 = 0

    init(current: UInt64, openedAt: Instant, openSummary: UInt64) {
        self.current = current
        self.openedAt = openedAt
        self.openSummary = openSummary
    }

    /// New members count as having acknowledged the current epoch, so that they are held to the
    /// same number of missed epochs as everyone else.
    mutating func track(_ id: NodeID) {
        if acks[id] == nil { acks[id] = Acked(epoch: current, summaryHash: 0) }
    }

    mutating func untrack(_ id: NodeID) {
        acks[id] = nil
    }
}
