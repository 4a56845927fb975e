/// Heartbeat epochs, acknowledgements, prunes and leader failover.
///
/// The leader (lowest present key) opens an epoch every `heartbeatInterval` and pushes it to
/// `fanout` peers; every node that learns a new epoch forwards it once to `fanout` peers and acks
/// it directly to the leader, and digests carry the epoch too, so a node that missed every push is
/// repaired within a round. A member whose acknowledgements stop is probed directly every tick
/// after its first miss and pruned after `missedEpochsBeforePrune` misses. Nothing here changes a
/// record version.
extension GossipEngine {
    mutating func livenessTick(now: Instant) -> [Outgoing] {
        guard !hasLeft, store.isPresent(me) else { return [] }
        if liveness.heardAt == nil { liveness.heardAt = now }
        liveness.suspects = liveness.suspects.filter { store.isPresent($0) }
        let rightful = rightfulLeader()
        if rightful != me {
            if liveness.book != nil { liveness.book = nil }
            let silence = config.heartbeatInterval * Int(clamping: config.silentIntervalsBeforeFailover)
            if let rightful, now.since(liveness.heardAt!) > silence {
                // The leader we expect has gone quiet: skip it, and give the next one as long.
                liveness.suspects.insert(rightful)
                liveness.heardAt = now
                if rightfulLeader() == me { return lead(now: now, replacing: rightful) }
            }
            return []
        }
        guard var book = liveness.book else { return lead(now: now) }
        var out: [Outgoing] = []
        if !book.deadlinePassed && now >= book.openedAt + config.ackWindow {
            book.deadlinePassed = true
            // Late acknowledgements get one round to arrive before anyone is probed.
            book.nextProbe = now + config.syncInterval
            liveness.book = book
            out += closeDeadline()
            book = liveness.book!
        }
        if now >= book.openedAt + config.heartbeatInterval {
            return out + openEpoch(now: now)
        }
        if book.deadlinePassed && now >= book.nextProbe {
            let next = now + config.syncInterval
            liveness.book?.nextProbe = next
            let probe = GossipMessage.probe(EpochStamp(leader: me, number: book.current))
            out += book.laggards.map { Outgoing(to: .member($0), message: probe) }
        }
        return out
    }

    /// The lowest present key that may lead, skipping leaders that went silent; when no present
    /// member may lead (a mesh of clients only), the lowest present key.
    ///
    /// A leader we already follow counts even before its record reaches us (a joiner hears
    /// epochs before its first full sync), so a newcomer does not start a rival epoch line.
    mutating func rightfulLeader() -> NodeID? {
        var lowest: NodeID?
        if liveness.suspects.isEmpty && cannotLead.isEmpty {
            lowest = store.lowestPresent()
        } else {
            lowest = store.lowestPresent(excluding: liveness.suspects.union(cannotLead))
            if lowest == nil { lowest = store.lowestPresent(excluding: liveness.suspects) }
        }
        guard let followed = liveness.epoch?.leader, followed != me, !liveness.suspects.contains(followed),
            !cannotLead.contains(followed), store.entry(for: followed)?.isPresent ?? true
        else { return lowest }
        return lowest.map { min($0, followed) } ?? followed
    }

    /// `replacing` is the leader whose silence just made us the rightful one.
    private mutating func lead(now: Instant, replacing silent: NodeID? = nil) -> [Outgoing] {
        let number = max(liveness.highestNumber, liveness.epoch?.number ?? 0)
        var book = LeaderBook(current: number, openedAt: now, openSummary: 0)
        for id in store.presentMembers where id != me { book.track(id) }
        // The leader we replace for silence has been silent for as many intervals as it takes
        // to miss that many epochs: it keeps one epoch to answer (it may only have been cut
        // off from us) and is pruned at the first deadline it misses, not three epochs later.
        // Only that one: other members once suspected (a joiner that briefly led itself) get
        // the usual three epochs.
        if let silent, book.acks[silent] != nil {
            let grace = UInt64(max(config.missedEpochsBeforePrune, 1) - 1)
            book.acks[silent]?.epoch = number >= grace ? number - grace : 0
        }
        liveness.book = book
        return openEpoch(now: now)
    }

    private mutating func openEpoch(now: Instant) -> [Outgoing] {
        guard var book = liveness.book else { return [] }
        let number = max(book.current, liveness.highestNumber) + 1
        book.current = number
        book.openedAt = now
        book.openSummary = store.summary.hash
        book.deadlinePassed = false
        book.laggards = []
        let heartbeat = Heartbeat(epoch: EpochStamp(leader: me, number: number), stableSummary: book.stableSummary)
        book.stableSummary = 0
        liveness.book = book
        adopt(heartbeat.epoch, now: now)
        noteStable(heartbeat.stableSummary)
        compactStableTombstones()
        return pickPeers(config.fanout).map { Outgoing(to: .member($0), message: .heartbeat(heartbeat)) }
    }

    /// At the ack deadline: prune members that missed too many epochs, list the ones to probe,
    /// and check whether every member reported the summary we had when the epoch opened.
    private mutating func closeDeadline() -> [Outgoing] {
        guard var book = liveness.book else { return [] }
        var doomed: [(NodeID, UInt64)] = []
        var laggards: [NodeID] = []
        var stable = store.summary.hash == book.openSummary
        for (id, acked) in book.acks {
            if acked.epoch &+ config.missedEpochsBeforePrune <= book.current {
                doomed.append((id, acked.epoch))
            } else if acked.epoch < book.current {
                laggards.append(id)
            }
            if acked.epoch != book.current || acked.summaryHash != book.openSummary { stable = false }
        }
        book.laggards = laggards.sorted()
        book.stableSummary = stable ? book.openSummary : 0
        liveness.book = book
        var changes: [(before: MemberEntry?, after: MemberEntry)] = []
        for (id, _) in doomed.sorted(by: { $0.0 < $1.0 }) {
            guard let record = store.record(for: id) else { continue }
            var tombstone = Tombstone(member: id, version: record.version, kind: .pruned, issuer: me)
            tombstone.proof = signer.proof(for: tombstone)
            changes += store.mergeChanges(
                MemberEntry(id: id, tombstone: tombstone), validator: validator, rejections: &rejections)
        }
        return apply(changes, spread: true, external: false)
    }

    mutating func receiveHeartbeat(_ heartbeat: Heartbeat, from: NodeID, now: Instant) -> [Outgoing] {
        let (isNew, replies) = observe(heartbeat.epoch, from: from, now: now)
        guard liveness.epoch == heartbeat.epoch else { return replies }
        noteStable(heartbeat.stableSummary)
        guard isNew else { return replies }
        return replies
            + pickPeers(config.fanout, except: from).map { Outgoing(to: .member($0), message: .heartbeat(heartbeat)) }
    }

    mutating func receiveProbe(_ stamp: EpochStamp, from: NodeID, now: Instant) -> [Outgoing] {
        let (isNew, replies) = observe(stamp, from: from, now: now)
        guard !isNew, !hasLeft, store.isPresent(me), let epoch = liveness.epoch, epoch.leader == from else {
            return replies
        }
        return [Outgoing(to: .member(from), message: .ack(Ack(epoch: epoch, summaryHash: store.summary.hash)))]
    }

    mutating func receiveAck(_ ack: Ack, from: NodeID) -> [Outgoing] {
        guard ack.epoch.leader == me, var book = liveness.book, let held = book.acks[from] else { return [] }
        if ack.epoch.number >= held.epoch {
            book.acks[from] = LeaderBook.Acked(epoch: ack.epoch.number, summaryHash: ack.summaryHash)
            if ack.epoch.number >= book.current, let index = book.laggards.firstIndex(of: from) {
                book.laggards.remove(at: index)
            }
            liveness.book = book
        }
        return []
    }

    /// Considers an epoch seen in any message. When it is new to us, we follow it and acknowledge
    /// it to its leader (the caller forwards it); when `from` is behind us, we tell it our epoch.
    mutating func observe(_ stamp: EpochStamp?, from: NodeID, now: Instant) -> (isNew: Bool, replies: [Outgoing]) {
        guard let stamp else { return (false, correct(from)) }
        liveness.highestNumber = max(liveness.highestNumber, stamp.number)
        guard stamp.leader != me, !hasLeft else { return (false, []) }
        if let entry = store.entry(for: stamp.leader), !entry.isPresent { return (false, correct(from)) }
        // Epoch numbers are global (a new leader continues above the highest it has seen), so a
        // higher number is always newer; between rival leaders at one number the lower key wins.
        // Comparing keys first would let a stale epoch of a dead leader depose its successor.
        if let current = liveness.epoch,
            stamp.number < current.number || stamp.number == current.number && stamp.leader >= current.leader
        {
            return (false, stamp == current ? [] : correct(from))
        }
        liveness.suspects.remove(stamp.leader)
        adopt(stamp, now: now)
        guard store.isPresent(me) else { return (true, []) }
        let ack = Ack(epoch: stamp, summaryHash: store.summary.hash)
        return (true, [Outgoing(to: .member(stamp.leader), message: .ack(ack))])
    }

    /// Tells `from` about our epoch because it announced an older or lesser one.
    private func correct(_ from: NodeID) -> [Outgoing] {
        guard let epoch = liveness.epoch, from != me else { return [] }
        return [Outgoing(to: .member(from), message: .heartbeat(Heartbeat(epoch: epoch)))]
    }

    private mutating func adopt(_ stamp: EpochStamp, now: Instant) {
        let previous = liveness.epoch?.leader
        liveness.epoch = stamp
        liveness.heardAt = now
        if stamp.leader != me { liveness.book = nil }
        if previous != stamp.leader { events.append(.leaderChanged(stamp.leader)) }
    }

    /// Marks our tombstones as held by every live member when the leader says so.
    private mutating func noteStable(_ summary: UInt64) {
        guard summary != 0, summary == store.summary.hash, let number = liveness.epoch?.number else { return }
        for id in store.tombstoned where liveness.stableSince[id] == nil {
            liveness.stableSince[id] = number
        }
        compactStableTombstones()
    }

    mutating func compactStableTombstones() {
        guard let number = liveness.epoch?.number, !liveness.stableSince.isEmpty else { return }
        for (id, since) in liveness.stableSince where since &+ config.tombstoneRetentionEpochs <= number {
            liveness.stableSince[id] = nil
            if let entry = store.entry(for: id), !entry.isPresent {
                store.compact(id, floor: entry.version)
            }
        }
    }
}
