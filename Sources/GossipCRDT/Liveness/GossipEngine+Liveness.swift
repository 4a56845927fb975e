/// Heartbeat epochs, acknowledgements, prunes and leader failover.
///
/// The leader (lowest present key among the members allowed and proven to lead) opens an epoch
/// every `heartbeatInterval`, signs it and hands it down the epoch's delegation tree
/// (`Delegation.swift`): every member receives it once, acknowledges it to whoever handed it
/// over, and passes it on in the scope it was given. A watcher reports a member that never
/// acknowledged; the leader probes a reported member directly and prunes it once it has missed
/// `missedEpochsBeforePrune` epochs. Nothing here changes a record version.
///
/// Every member may be hostile, so nothing here trusts a number or a claim it cannot check:
/// epochs are adopted only from a heartbeat the leader signed or a probe the leader itself sent
/// (the frame layer authenticates `from`), only from the member this node expects to lead, and
/// only as far ahead as the time elapsed allows; acknowledgements count only for epochs that
/// were opened. A digest's epoch is a hint that asks for the signed heartbeat, never adopted.
extension GossipEngine {
    mutating func livenessTick(now: Instant) -> [Outgoing] {
        guard !hasLeft, store.isPresent(me) else { return [] }
        if liveness.heardAt == nil { liveness.heardAt = now }
        liveness.suspects = liveness.suspects.filter { store.isPresent($0) }
        let rightful = rightfulLeader(now: now)
        if rightful != me {
            if liveness.book != nil {
                liveness.book = nil
                liveness.handingOver = true
            }
            if let rightful, now.since(liveness.heardAt!) > silence {
                // The leader we expect has gone quiet: skip it, and give the next one as long.
                liveness.suspects.insert(rightful)
                liveness.heardAt = now
                if rightfulLeader(now: now) == me, !isJoining { return lead(now: now, replacing: rightful) }
                // The leader we follow may be alive and following someone we count young: a
                // digest to it draws its current heartbeat (`correct`), which it vouches for.
                if let followed = liveness.epoch?.leader, followed != me, store.isPresent(followed) {
                    let plain = Digest(summary: store.summary, epoch: liveness.epoch)
                    return [Outgoing(to: .member(followed), message: .digest(plain))]
                }
            }
            return watchTick(now: now) + pullIfLate(now: now)
        }
        guard var book = liveness.book else {
            // Joining (bootstrap peers to try, no epoch followed yet): the mesh has a leader
            // already, and a joiner whose first sync brought only part of the mesh (another
            // joiner, say) would otherwise lead a line of its own and prune the others.
            if isJoining { return [] }
            return lead(now: now)
        }
        var out = watchTick(now: now)
        if !book.deadlinePassed && now >= book.openedAt + config.ackWindow {
            book.deadlinePassed = true
            liveness.book = book
            out += closeDeadline(now: now)
            book = liveness.book!
        }
        if now >= book.openedAt + config.heartbeatInterval {
            return out + openEpoch(now: now)
        }
        return out + probeSuspects(now: now)
    }

    /// Time without a new epoch after which the leader we expect is presumed failed.
    var silence: Duration { config.heartbeatInterval * Int(clamping: config.silentIntervalsBeforeFailover) }

    /// The `replacing` leader is the one whose silence just made us the rightful one.
    private mutating func lead(now: Instant, replacing silent: NodeID? = nil) -> [Outgoing] {
        let number = max(liveness.highestNumber, liveness.epoch?.number ?? 0)
        var book = LeaderBook(current: number, openedAt: now, openSummary: store.summary.hash)
        for id in store.presentMembers where id != me { book.track(id, young: isYoung(id)) }
        // The leader we replace for silence has been silent for as many intervals as it takes
        // to miss that many epochs: it keeps one epoch to answer (it may only have been cut
        // off from us) and is pruned at the first deadline it misses, not three epochs later.
        // Only that one: other members once suspected (a joiner that briefly led itself) get
        // the usual three epochs.
        if let silent, book.tracked.contains(silent) {
            let grace = max(config.missedEpochsBeforePrune, 1) - 1
            book.suspects[silent] = number.subtracting(saturating: grace)
        }
        liveness.book = book
        return openEpoch(now: now)
    }

    private mutating func openEpoch(now: Instant) -> [Outgoing] {
        guard var book = liveness.book else { return [] }
        // Numbers are bounded on receipt, so this stays far below the top; the cap only makes
        // sure a leader can never trap however long it runs.
        let number = min(max(book.current, liveness.highestNumber).adding(saturating: 1), GossipLimits.maxEpoch)
        book.current = number
        book.openedAt = now
        book.openSummary = store.summary.hash
        book.deadlinePassed = false
        book.reportedBy = [:]
        book.rollAckDelays()
        book.young = book.young.filter { isYoung($0.key) }
        var heartbeat = Heartbeat(epoch: EpochStamp(leader: me, number: number), stableSummary: book.openSummary)
        heartbeat.proof = signer.proof(for: heartbeat)
        liveness.book = book
        var out = adopt(heartbeat.epoch, signed: heartbeat, now: now)
        out += passOn(heartbeat, scope: .everything, now: now)
        return out
    }

    /// At the ack deadline: prune the reported members that missed too many epochs.
    private mutating func closeDeadline(now: Instant) -> [Outgoing] {
        guard var book = liveness.book else { return [] }
        let candidates = Set(book.suspects.keys).union(book.young.keys)
        if book.inputLost {
            book.inputLost = false
            for id in candidates { book.forgive(id, limit: config.missedEpochsBeforePrune) }
            liveness.book = book
        }
        var doomed: [NodeID] = []
        let probeTime = book.probeTime(ackWindow: config.ackWindow, interval: config.heartbeatInterval)
        for id in candidates {
            guard let acked = book.acknowledged(id),
                acked.adding(saturating: config.missedEpochsBeforePrune).adding(saturating: book.forgiven[id] ?? 0)
                    <= book.current,
                book.reportedAt[id].map({ now >= $0 + probeTime }) ?? true
            else { continue }
            doomed.append(id)
        }
        var changes: [(before: MemberEntry?, after: MemberEntry)] = []
        for id in doomed.sorted() {
            guard let record = store.record(for: id) else { continue }
            var tombstone = Tombstone(member: id, version: record.version, kind: .pruned, issuer: me)
            tombstone.proof = signer.proof(for: tombstone)
            changes += store.mergeChanges(
                MemberEntry(id: id, tombstone: tombstone), validator: validator, rejections: &rejections)
        }
        return apply(changes, spread: true, external: false)
    }

    mutating func receiveHeartbeat(_ heartbeat: Heartbeat, from: NodeID, now: Instant) -> [Outgoing] {
        // A leader we gave up on for silence that signs a new epoch is alive after all (it was
        // slow to start, or cut off from us): it may lead again. Without this, a member suspected
        // once, when it restarted a moment after the others, would be refused for good while it
        // leads a line of its own.
        let leader = heartbeat.epoch.leader
        if liveness.suspects.contains(leader), let record = store.record(for: leader),
            validator.accept(heartbeat, leader: record)
        {
            liveness.suspects.remove(leader)
        }
        var plain = heartbeat
        plain.scope = nil
        switch judge(heartbeat.epoch, now: now) {
        case .current:
            // Learnt from a probe: keep the signed copy, to correct and to hand over with, once
            // it is proven to be the leader's.
            if liveness.signed == nil, heartbeat.epoch.leader != me, let record = store.record(for: leader),
                validator.accept(plain, leader: record)
            {
                liveness.signed = plain
            }
            var out = acknowledge(heartbeat.epoch, to: from)
            if let signed = liveness.signed, signed.epoch == heartbeat.epoch {
                out += passOn(signed, scope: heartbeat.scope, now: now)
            }
            return out + handOver(plain, except: from)
        case .behind:
            return correct(from)
        case .refused(.notEntitled) where isVouched(plain, by: from):
            return follow(heartbeat.epoch, signed: plain, scope: heartbeat.scope, from: from, now: now)
        case .refused(let reason):
            // No answer: two members that follow different leaders would otherwise trade
            // heartbeats for as long as they disagree. Digests (one per round) carry the hint.
            rejections.add(reason)
            return []
        case .newer:
            guard let record = store.record(for: heartbeat.epoch.leader),
                validator.accept(plain, leader: record)
            else {
                rejections.add(.notEntitled)
                return []
            }
            let replies = follow(heartbeat.epoch, signed: plain, scope: heartbeat.scope, from: from, now: now)
            if liveness.handingOver { return replies + handOver(plain, except: from) }
            return replies
        }
    }

    /// A probe comes straight from the leader that opened its epoch, so the authenticated sender
    /// vouches for it; a probe naming another leader is forged.
    mutating func receiveProbe(_ stamp: EpochStamp, from: NodeID, now: Instant) -> [Outgoing] {
        guard stamp.leader == from else {
            rejections.add(.notEntitled)
            return []
        }
        liveness.suspects.remove(from)
        switch judge(stamp, now: now) {
        case .refused(.notEntitled) where store.isPresent(from) && store.isPresent(me) && !hasLeft:
            // A present member leads a line we do not follow: after a partition heals, each
            // half's leader probes the other half, which refuses its line. Saying we are alive
            // (an ack of its epoch, to it alone) is true, and keeps it from pruning us while the
            // halves sort out who leads: a member that joined one half with the lowest key is
            // young to the other half until it has stayed present there for a while, and if
            // that half's leader pruned it at every third epoch it never would (the two lines
            // never merged; `PartitionHealTests`). It lends the prober nothing: the ack comes
            // from us, and we follow nothing it says.
            rejections.add(.notEntitled)
            return acknowledge(stamp, to: from)
        case .refused(let reason):
            rejections.add(reason)
            return []
        case .newer:
            return follow(stamp, signed: nil, scope: nil, from: from, now: now)
        case .current, .behind:
            guard let epoch = liveness.epoch else { return [] }
            if epoch.leader == from { return acknowledge(epoch, to: from) }
            // A present member leads a line behind ours: in a mass join the lowest-keyed joiner
            // counts itself proven a few epochs before members that learnt of it later do, and
            // leads while they still follow the old leader. Silence would get them pruned by it
            // three epochs on, they would republish, and under load the loop sustained itself
            // (`Simulator.runMassJoin`). Saying we are alive is true, as in the refused case.
            guard store.isPresent(from) else { return [] }
            return acknowledge(stamp, to: from)
        }
    }

    /// A digest's epoch is unsigned: it only tells us who is behind. A member behind us gets our
    /// signed heartbeat; when the sender seems ahead, the caller's reply carries our epoch so
    /// that the sender corrects us with the signed one.
    mutating func hint(_ stamp: EpochStamp?, from: NodeID, now: Instant) -> (replies: [Outgoing], ahead: Bool) {
        guard let stamp else { return (correct(from), false) }
        switch judge(stamp, now: now) {
        case .refused(.notEntitled)
        where from == liveness.epoch?.leader && from != me && stamp.number > liveness.epoch!.number:
            // Our leader follows someone else now: ask it for the heartbeat it would vouch for.
            return ([], true)
        case .behind, .refused(.notEntitled): return (correct(from), false)
        case .newer: return ([], true)
        case .refused(.outOfBounds):
            // No honest member follows an epoch beyond the bound, so this one is counted; a
            // digest naming a leader we do not expect is ordinary during a handover, and is not.
            rejections.add(.outOfBounds)
            return ([], false)
        case .current, .refused: return ([], false)
        }
    }

    enum Judgement: Equatable {
        /// The epoch we follow.
        case current
        /// Older than ours, or a lesser rival at our number: the sender should hear ours.
        case behind
        /// Newer and from a member we accept as leader: adopt it once its origin is proven.
        case newer
        case refused(RejectReason)
    }

    /// Whether `stamp` may replace the epoch we follow, judged on what this node holds: the
    /// number must be within the time elapsed since the highest we accepted, and the leader
    /// must be present, allowed to lead, and the one we expect (or its successor once ours has
    /// been quiet for all but the last interval of the failover wait).
    ///
    /// Epoch numbers are global (a new leader continues above the highest it has seen), so while
    /// the leader we follow is still the one we expect, a higher number is newer and between
    /// rival leaders at one number the lower key wins; comparing keys first would let a stale
    /// epoch of a dead leader depose its successor. Once the leader we follow is no longer the
    /// one we expect (after a partition heals, the lower half's leader is back), the expected
    /// leader's line wins whatever its number: the number only orders epochs of one line.
    mutating func judge(_ stamp: EpochStamp, now: Instant) -> Judgement {
        guard stamp.number <= GossipLimits.maxEpoch, stamp.number <= epochBound(now: now) else {
            return .refused(.outOfBounds)
        }
        let current = liveness.epoch
        if stamp == current { return .current }
        let older = current.map { stamp.number < $0.number || stamp.number == $0.number && stamp.leader >= $0.leader }
        if let current, stamp.leader == current.leader {
            return older! ? .behind : .newer
        }
        guard stamp.leader != me, !hasLeft, expects(stamp.leader, now: now) else {
            return older == true ? .behind : .refused(.notEntitled)
        }
        guard let current, older == true, current.leader == me || expects(current.leader, now: now) else {
            return .newer
        }
        return .behind
    }

    /// Whether this node expects `leader` to lead now: it is the rightful leader, or the next
    /// one after it once the rightful leader has been quiet for all but the last interval of the
    /// failover wait (it may have failed a moment before we noticed).
    ///
    /// A joiner (it restored nobody and has followed no epoch yet) cannot tell the ages of the
    /// members its first sync brought, so its own idea of the rightful leader may name a member
    /// that joined a moment before it and does not lead yet. It takes the first epoch the mesh
    /// shows it from any present member allowed to lead: a member could mislead it only until
    /// that member's silence makes it fail over, and only this joiner.
    func expects(_ leader: NodeID, now: Instant) -> Bool {
        guard store.isPresent(leader), !liveness.suspects.contains(leader) else { return false }
        if liveness.epoch == nil, !liveness.restored, !cannotLead.contains(leader) { return true }
        var view = self
        guard let rightful = view.rightfulLeader(now: now) else { return false }
        if leader == rightful { return true }
        let quiet = now.since(liveness.heardAt ?? now)
        guard quiet + config.heartbeatInterval > silence, view.isProven(leader, now: now) else { return false }
        var skipping = liveness.suspects
        skipping.insert(rightful)
        return view.lowest(excluding: skipping, now: now) == leader
    }

    /// The highest epoch number this node can have been sent honestly: what it accepted, plus
    /// the intervals elapsed since (a quarter more, for clocks that run fast), plus slack.
    func epochBound(now: Instant) -> UInt64 {
        guard let since = liveness.highestAt else { return GossipLimits.maxEpoch }
        let interval = max(config.heartbeatInterval.nanoseconds, 1)
        let elapsed = now.since(since).nanoseconds / interval
        let ahead = elapsed.adding(saturating: elapsed / 4).adding(saturating: config.epochSlack)
        return min(liveness.boundNumber.adding(saturating: ahead), GossipLimits.maxEpoch)
    }

    /// Where the reference line would be now at one epoch per interval.
    func projectedNumber(now: Instant) -> UInt64 {
        guard let since = liveness.highestAt else { return 0 }
        let interval = max(config.heartbeatInterval.nanoseconds, 1)
        return liveness.boundNumber.adding(saturating: now.since(since).nanoseconds / interval)
    }

    /// Follows a newer epoch, acknowledges it to whoever handed it over, and passes it on in
    /// the scope it came with.
    private mutating func follow(
        _ stamp: EpochStamp, signed: Heartbeat?, scope: Scope?, from: NodeID, now: Instant
    ) -> [Outgoing] {
        liveness.suspects.remove(stamp.leader)
        var out = adopt(stamp, signed: signed, now: now)
        out += acknowledge(stamp, to: from)
        // While we are young (we joined a few epochs ago) the leader may be the only one that
        // knows us: it waits for our own answer. A restart is not young: others hold our record.
        if from != stamp.leader, !liveness.restored, liveness.epochsAdopted <= config.provenAfterEpochs {
            out += acknowledge(stamp, to: stamp.leader)
        }
        if let signed { out += passOn(signed, scope: scope, now: now) }
        return out
    }

    /// One acknowledgement per heartbeat or probe received: never more than what caused it.
    func acknowledge(_ stamp: EpochStamp, to: NodeID) -> [Outgoing] {
        guard !hasLeft, store.isPresent(me), to != me else { return [] }
        return [Outgoing(to: .member(to), message: .ack(Ack(epoch: stamp)))]
    }

    /// Tells `from` about our epoch because it announced an older or lesser one. Only a signed
    /// heartbeat can correct anyone, so a node that learnt its epoch from a probe stays quiet.
    func correct(_ from: NodeID) -> [Outgoing] {
        guard let signed = liveness.signed, signed.epoch == liveness.epoch, from != me else { return [] }
        return [Outgoing(to: .member(from), message: .heartbeat(signed))]
    }

    /// Returns the report of what the previous epoch's watch left unanswered.
    private mutating func adopt(_ stamp: EpochStamp, signed: Heartbeat?, now: Instant) -> [Outgoing] {
        let previous = liveness.epoch?.leader
        let previousSigned = liveness.signed
        liveness.epochsAdopted = liveness.epochsAdopted.adding(saturating: 1)
        liveness.epoch = stamp
        liveness.signed = signed
        liveness.heardAt = now
        liveness.highestNumber = max(liveness.highestNumber, stamp.number)
        // The bound is projected from the line furthest ahead: a line that lagged (the half of a
        // partition that spent seconds failing over) must not tighten it, or the other half's
        // leader would look like a forger when the partition heals. Our own line counts only
        // once anchored (see `LivenessState.anchored`).
        if stamp.leader != me { liveness.anchored = true }
        if liveness.anchored {
            if liveness.highestAt == nil || stamp.number > projectedNumber(now: now) {
                liveness.boundNumber = stamp.number
                liveness.highestAt = now
            }
        }
        if stamp.leader != me {
            if liveness.book != nil || previous == me { liveness.handingOver = true }
            liveness.book = nil
        } else {
            liveness.handingOver = false
        }
        if previous != stamp.leader {
            events.append(.leaderChanged(stamp.leader))
            liveness.recentLeaders.removeAll { $0 == stamp.leader }
            liveness.recentLeaders.append(stamp.leader)
            if liveness.recentLeaders.count > 8 { liveness.recentLeaders.removeFirst() }
        }
        // Two consecutive epochs of one line with the same summary, and ours equal to it: the
        // leader and we held the same state for an interval. Every member that agrees marks
        // its tombstones at this same epoch, so they are compacted together; compaction then
        // runs on schedule even once the summaries differ (the leader compacting first is
        // exactly what makes them differ).
        if let signed, let before = previousSigned, before.epoch.leader == signed.epoch.leader,
            before.epoch.number.adding(saturating: 1) == signed.epoch.number,
            before.stableSummary == signed.stableSummary
        {
            noteStable(signed.stableSummary)
        }
        compactStableTombstones()
        return startWatch(stamp, now: now)
    }

    /// Marks our tombstones as held by every live member that agrees with the leader.
    private mutating func noteStable(_ summary: UInt64) {
        guard summary != 0, summary == store.summary.hash, let number = liveness.epoch?.number else { return }
        for id in store.tombstoned where liveness.stableSince[id] == nil {
            liveness.stableSince[id] = number
        }
    }

    mutating func compactStableTombstones() {
        guard let number = liveness.epoch?.number, !liveness.stableSince.isEmpty else { return }
        for (id, since) in liveness.stableSince
        where since.adding(saturating: config.tombstoneRetentionEpochs) <= number {
            liveness.stableSince[id] = nil
            if let entry = store.entry(for: id), !entry.isPresent {
                store.compact(id, floor: entry.version)
            }
        }
    }
}
