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
    /// Whom we handed the epoch we follow to, and which scopes we worked.
    var watch: WatchBook?
    /// The watch before it, until a whole interval has passed since it began.
    var previousWatch: WatchBook?
    /// Reports to send again, when, and how many more times.
    var pendingReports: ([Report], Instant, Int)?
    /// When a node whose epoch is late may next ask a peer for it.
    var nextPull: Instant?
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

/// The leader's view of liveness. Nobody acknowledges to the leader as a matter of course
/// (watchers do, see `Delegation.swift`): every tracked member counts as alive until a watcher
/// reports it, and from then on only the leader's own probes can clear it.
struct LeaderBook: Sendable {
    var current: UInt64
    var openedAt: Instant
    /// Our summary hash when the epoch opened: announced in the heartbeat.
    var openSummary: UInt64
    var deadlinePassed = false
    /// Every present member but us.
    var tracked: Set<NodeID> = []
    /// Members reported missing, with the newest epoch each is known (or presumed, from the
    /// report) to have acknowledged. Pruned when that falls `missedEpochsBeforePrune` behind.
    var suspects: [NodeID: UInt64] = [:]
    /// When the first report of each suspect arrived, which is when its probes began. A report
    /// comes at the end of the epoch it is about, plus the network's delay: dated by epochs
    /// alone, a late one left the member a few hundred milliseconds of probes before the next
    /// deadline, and under load (a mass join on two cores) honest members were pruned by the
    /// dozen. So a suspect is pruned no sooner than `probeTime` after its first report.
    var reportedAt: [NodeID: Instant] = [:]
    /// How long the members we hand the heartbeat to ourselves took to acknowledge it this epoch
    /// (at most 64 of them), and the median of the epoch before: the round trip a probe needs,
    /// as the network and the members' CPUs are now. The median, because a heartbeat lost and
    /// resent is acknowledged an ack window late, and at 10% loss the slowest always was.
    var ackDelays: [Duration] = []
    var typicalAck: Duration = .zero
    /// The host dropped input unread since the last deadline (`noteInputLoss`), and how many
    /// epochs each member has been forgiven for that since it last answered.
    var inputLost = false
    var forgiven: [NodeID: UInt64] = [:]
    /// Members that answered a probe, with the epoch: a report about an epoch they answered
    /// since is stale.
    var answered: [NodeID: UInt64] = [:]
    /// Members reported per reporter this epoch: a member (hostile or confused) can make the
    /// leader probe only a few members per epoch.
    var reportedBy: [NodeID: Int] = [:]
    /// Probes go out every tick, to at most `maxProbesPerTick` suspects, taking turns.
    var nextProbe = Instant.zero
    var probeCursor = 0

    init(current: UInt64, openedAt: Instant, openSummary: UInt64) {
        self.current = current
        self.openedAt = openedAt
        self.openSummary = openSummary
    }

    /// Members young in our view (joiners, or identities minted in a flood), with the newest
    /// epoch each acknowledged to us directly. Nobody else may know of them yet, so no watcher
    /// would report them: they answer the leader themselves until they come of age, as every
    /// member once did (the only time the leader's load grows with arrivals, not with N).
    var young: [NodeID: UInt64] = [:]

    /// New members count as having acknowledged the current epoch, so that they are held to the
    /// same number of missed epochs as everyone else.
    mutating func track(_ id: NodeID, young isYoung: Bool) {
        tracked.insert(id)
        if isYoung, young[id] == nil { young[id] = current }
    }

    mutating func untrack(_ id: NodeID) {
        tracked.remove(id)
        suspects[id] = nil
        reportedAt[id] = nil
        forgiven[id] = nil
        answered[id] = nil
        young[id] = nil
    }

    /// How long a reported member is probed at least before it may be pruned: two typical round
    /// trips, never less than the ack window and never more than an interval. On a quiet network
    /// that is the ack window, so a crashed member is pruned as early as before (a report lands
    /// about an interval before the deadline that prunes); under load it grows to an interval.
    /// Delegates that delay their acks on purpose (half of them, for the median) can stretch it to
    /// an interval, which delays a prune by an epoch at most.
    func probeTime(ackWindow: Duration, interval: Duration) -> Duration {
        min(interval, max(ackWindow, typicalAck * 2))
    }

    /// An epoch in which the host lost input does not count against `id`, `limit` times at most
    /// until it answers. Kept as a count beside what it acknowledged, not added to it: a later
    /// report may lower that presumption again, and must not undo the forgiveness.
    mutating func forgive(_ id: NodeID, limit: UInt64) {
        guard (forgiven[id] ?? 0) < limit else { return }
        forgiven[id] = (forgiven[id] ?? 0).adding(saturating: 1)
    }

    /// Closes the epoch's round-trip sample.
    mutating func rollAckDelays() {
        if !ackDelays.isEmpty { typicalAck = ackDelays.sorted()[ackDelays.count / 2] }
        ackDelays.removeAll(keepingCapacity: true)
    }

    /// Newest epoch a member is known to have acknowledged, of the two ways we learn it.
    func acknowledged(_ id: NodeID) -> UInt64? {
        [suspects[id], young[id]].compactMap { $0 }.min()
    }
}
