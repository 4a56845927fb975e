/// Who may lead, in this node's view.
///
/// The seeds' rule is "the lowest live key leads". Taken literally, anyone who holds the mesh
/// secret could mint thousands of identities with low keys that never answer: every honest node
/// would wait three intervals on each in turn, and nothing would be pruned meanwhile. So a member
/// must have been present through `GossipConfig.provenAfterEpochs` epochs (more than it takes
/// the leader to prune a member that never acknowledges) before this node expects it to lead. Identities that
/// do acknowledge are stopped only by owner admissions (a later part of the trust model).
///
/// Youth is local: each node counts the epochs it adopted since it first saw a member through
/// gossip. Epochs rather than time, because pruning runs on epochs: during a failover no epoch
/// opens and nobody is pruned, and time alone would let sybils come of age meanwhile. Nodes
/// see a new member within a round or two of each other, so their views agree but for a moment
/// at a handover, which costs at most an epoch. Members restored from disk count as proven, and
/// so do members a joiner (a node that restored nobody) learns before it follows any epoch:
/// there is no better evidence yet, and treating the whole mesh as young would leave a joiner
/// without a leader. A node that restored members judges everyone new as young from the start,
/// so a sybil delivered to a restarting mesh before its first heartbeat cannot take over.
extension GossipEngine {
    /// Starts the clock on a member that just appeared. `isNew`: no entry of it was held (it
    /// is not a member coming back). A member coming back after a prune was proven before unless
    /// it was still young then, in which case its clock starts again: a pruned sybil cannot
    /// return as a veteran, while both halves of a healed partition trust each other at once.
    mutating func notePresent(_ id: NodeID, isNew: Bool) {
        if isNew {
            guard id == me || liveness.epoch != nil || liveness.restored else { return }
            liveness.presentSince[id] = liveness.epochsAdopted
        } else if liveness.presentSince[id] != nil {
            liveness.presentSince[id] = liveness.epochsAdopted
        }
    }

    /// A member first heard of through its removal counts as young should its record follow:
    /// otherwise a sybil whose prune outran its record came back as a veteran and, with a low
    /// key, became the rightful leader at once (found by the hostile property test).
    mutating func noteRemovedUnseen(_ id: NodeID) {
        guard id != me, liveness.epoch != nil || liveness.restored else { return }
        liveness.presentSince[id] = liveness.epochsAdopted
    }

    func isProven(_ id: NodeID, now: Instant) -> Bool {
        guard let since = liveness.presentSince[id] else { return true }
        return isOfAge(since)
    }

    func isYoung(_ id: NodeID) -> Bool {
        guard let since = liveness.presentSince[id] else { return false }
        return !isOfAge(since)
    }

    private func isOfAge(_ since: UInt64) -> Bool {
        liveness.epochsAdopted.subtracting(saturating: since) >= config.provenAfterEpochs
    }

    /// Forgets members that came of age while present, or of which nothing is held any more,
    /// so the table holds only the young and the removed young. A removed young member whose
    /// removal was compacted to a floor stays young: its record above the floor would otherwise
    /// make it a veteran. Bounded like the floors.
    mutating func forgetProven(now: Instant) {
        guard !liveness.presentSince.isEmpty else { return }
        liveness.presentSince = liveness.presentSince.filter { id, since in
            guard let entry = store.entry(for: id) else { return store.floors[id] != nil }
            return !entry.isPresent || !isOfAge(since)
        }
    }

    private func young(now: Instant) -> Set<NodeID> {
        Set(liveness.presentSince.compactMap { id, since in isOfAge(since) ? nil : id })
    }

    /// The lowest present, proven key that may lead, skipping leaders that went silent. The
    /// leader we follow (ourselves while we lead) is proven by leading. When nobody proven may
    /// lead (a new mesh, a mesh of clients only), the leader we follow, else the lowest present
    /// key not suspected, skipping a young self only before its first epoch, so a joiner never
    /// opens a rival line before it has heard the mesh's leader.
    mutating func rightfulLeader(now: Instant) -> NodeID? {
        var followed = liveness.epoch?.leader
        if let id = followed, !store.isPresent(id) || liveness.suspects.contains(id) || cannotLead.contains(id) {
            followed = nil
        }
        let young = young(now: now)
        if let lowest = store.lowestPresent(), !liveness.suspects.contains(lowest), !cannotLead.contains(lowest),
            !young.contains(lowest) || lowest == followed
        {
            return lowest
        }
        var excluded = liveness.suspects.union(cannotLead).union(young)
        if let followed { excluded.remove(followed) }
        if let lowest = store.lowestPresent(excluding: excluded) { return lowest }
        if let followed { return followed }
        // Only a joiner that has followed no epoch yet stays out: one that has followed this
        // mesh's leader is a successor like any other, and skipping a young self while the
        // others all chose it walked a young mesh's failover down the keys 3 s at a time.
        var skip = liveness.suspects
        if young.contains(me) && store.presentCount > 1 && liveness.epoch == nil { skip.insert(me) }
        if let lowest = store.lowestPresent(excluding: skip.union(cannotLead)) { return lowest }
        // Nobody allowed to lead is left (a mesh of clients, or a client cut off from every
        // peer): a young self still stays out, or a client that lost its peers for a moment
        // would lead a line of its own.
        if young.contains(me) && store.presentCount > 1 { skip.insert(me) }
        return store.lowestPresent(excluding: skip) ?? store.lowestPresent(excluding: liveness.suspects)
    }

    /// The lowest present, proven member allowed to lead that is not in `excluded`.
    func lowest(excluding excluded: Set<NodeID>, now: Instant) -> NodeID? {
        store.lowestPresent(excluding: excluded.union(cannotLead).union(young(now: now)))
    }
}
