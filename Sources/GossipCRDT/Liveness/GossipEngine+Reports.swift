/// Acknowledgements, watchers' reports and the leader's probes.
///
/// A report is a claim by one member about another, so it decides nothing by itself: it makes
/// the leader probe the member directly, and only epochs that pass without an answer to the
/// leader's own probes count towards the prune. A report may date the first miss one epoch back
/// (the watcher saw the whole of that epoch), never more, so a forged report leaves an honest
/// member more than an epoch of probes, one every tick, to answer; dropping a report delays a
/// prune by an epoch, because the next epoch has another watcher.
extension GossipEngine {
    mutating func receiveAck(_ ack: Ack, from: NodeID, now: Instant) -> [Outgoing] {
        let handed = liveness.watch.map {
            ack.acknowledges($0.epoch) && $0.watched.contains { !$0.acked && $0.id == from }
        }
        noteWatchAck(ack, from: from)
        guard ack.isOnLine(of: me), var book = liveness.book, book.tracked.contains(from) else { return [] }
        guard ack.number <= book.current else {
            // Nobody can have seen an epoch we have not opened: an honest member never sends it.
            rejections.add(.outOfBounds)
            return []
        }
        if handed == true, ack.number == book.current, book.ackDelays.count < 64 {
            book.ackDelays.append(now.since(book.openedAt))
        }
        // Another member follows our line, so it is (part of) the mesh's line.
        liveness.anchored = true
        book.answered[from] = max(book.answered[from] ?? 0, ack.number)
        book.forgiven[from] = nil
        if let held = book.young[from] { book.young[from] = max(held, ack.number) }
        if let held = book.suspects[from] {
            book.suspects[from] = ack.number >= book.current ? nil : max(held, ack.number)
            if book.suspects[from] == nil { book.reportedAt[from] = nil }
        }
        liveness.book = book
        return []
    }

    /// The host dropped received datagrams unread, because it could not keep up: whatever
    /// acknowledgements they held, this leader never saw. The epoch in which that happens does
    /// not count against the members it would prune, but each member is forgiven at most
    /// `missedEpochsBeforePrune` epochs until it answers again, so a flood that keeps the host
    /// dropping delays a dead member's prune by that many epochs and cannot keep it.
    public mutating func noteInputLoss() {
        liveness.book?.inputLost = true
    }

    /// Members a watcher handed our epoch to that never acknowledged it: probed from now on.
    mutating func receiveReport(_ report: Report, from: NodeID, now: Instant) -> [Outgoing] {
        guard report.epoch.leader == me, var book = liveness.book else { return [] }
        guard from == me || book.tracked.contains(from) else {
            rejections.add(.notEntitled)
            return []
        }
        guard report.epoch.number <= book.current else {
            rejections.add(.outOfBounds)
            return []
        }
        // Only the epoch before the current one or the current one: an older claim would date
        // a miss further back than anyone can have watched it for us.
        guard report.epoch.number.adding(saturating: 1) >= book.current else { return [] }
        var budget = from == me ? Int.max : GossipLimits.maxReportedPerEpoch - (book.reportedBy[from] ?? 0)
        let presumed = report.epoch.number.subtracting(saturating: 1)
        var probes: [Outgoing] = []
        let probe = GossipMessage.probe(EpochStamp(leader: me, number: book.current))
        for id in report.missing where id != me && id != from && book.tracked.contains(id) {
            guard budget > 0 else { break }
            budget -= 1
            if let answered = book.answered[id], answered >= report.epoch.number { continue }
            if let held = book.suspects[id], held <= presumed { continue }
            book.suspects[id] = presumed
            if book.reportedAt[id] == nil { book.reportedAt[id] = now }
            probes.append(Outgoing(to: .member(id), message: probe))
        }
        if from != me { book.reportedBy[from] = GossipLimits.maxReportedPerEpoch - budget }
        liveness.book = book
        return probes
    }

    /// Suspects that have not answered the current epoch are probed every tick (at most
    /// `GossipLimits.maxProbesPerTick` of them, in turn): a false report must not leave an
    /// honest member at the mercy of a few lost datagrams.
    mutating func probeSuspects(now: Instant) -> [Outgoing] {
        guard var book = liveness.book, !book.suspects.isEmpty || !book.young.isEmpty, now >= book.nextProbe
        else { return [] }
        book.nextProbe = now + config.tickInterval
        // Young members are probed from the deadline on, like suspects from their report.
        let lagging = book.deadlinePassed ? book.young.filter { $0.value < book.current }.keys : [:].keys
        let due = Set(book.suspects.filter { $0.value < book.current }.keys).union(lagging).sorted()
        guard !due.isEmpty else {
            liveness.book = book
            return []
        }
        let count = min(due.count, GossipLimits.maxProbesPerTick)
        let start = book.probeCursor % due.count
        book.probeCursor = (start + count) % due.count
        liveness.book = book
        let probe = GossipMessage.probe(EpochStamp(leader: me, number: book.current))
        return (0..<count).map { Outgoing(to: .member(due[(start + $0) % due.count]), message: probe) }
    }

    /// A member whose epoch is late (its part of the tree lost a forwarder, or it is new and in
    /// nobody's tree yet) asks one peer with a plain digest, which draws the signed heartbeat.
    mutating func pullIfLate(now: Instant) -> [Outgoing] {
        guard let heard = liveness.heardAt, liveness.epoch != nil, !isJoining else { return [] }
        let late = config.heartbeatInterval + config.ackWindow + config.syncInterval
        guard now.since(heard) >= late, now >= liveness.nextPull ?? .zero else { return [] }
        liveness.nextPull = now + config.syncInterval * 2
        let plain = Digest(summary: store.summary, epoch: liveness.epoch)
        return pickPeers(1).map { Outgoing(to: .member($0), message: .digest(plain)) }
    }
}
