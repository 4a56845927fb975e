/// One node's side of the membership protocol, as a pure state machine.
///
/// Messages and time go in, messages come out: `receive` and `tick` never block, read a clock or
/// touch a socket, so the daemon drives it over UDP and the simulator drives thousands of copies
/// over a simulated network, running exactly the same code.
public struct GossipEngine: Sendable {
    public let me: NodeID
    public let config: GossipConfig
    public internal(set) var store = MemberStore()
    public internal(set) var rejections = RejectionCounts()

    private(set) var validator: any RecordValidator
    let signer: any GossipSigner
    var rng: any RandomNumberGenerator & Sendable
    /// The time of the call being handled, for bookkeeping deep in merges that has no `now`.
    var clockNow = Instant.zero
    var newIdentities = NewIdentityBudget()
    var lastRepublishForRemoval: Instant?
    /// Pushes caused deep inside a merge, returned with the reply of the message being handled.
    var pendingPushes: [Outgoing] = []
    var bootstrapCount = 0
    /// News to keep pushing, oldest first, with the rounds it has left. An array, not a
    /// dictionary, so that runs replay identically (dictionary order is seeded per process).
    var rumors: [(id: NodeID, roundsLeft: Int)] = []
    var events: [MembershipEvent] = []
    var liveness = LivenessState()
    /// Present members the validator says may not lead (members behind NAT).
    var cannotLead = Set<NodeID>()
    var redial = RedialTable()
    var nextRound: Instant?
    /// News is pushed on receipt at most once per round; more news waits for the round's digests.
    /// Without this, a burst of changes (a healed partition) makes every receipt a push of up to
    /// 64 entries, and the pushes multiply.
    var pushedThisRound = false
    /// While this node agrees with its leader's summary, idle digests wait until this time.
    var nextIdleDigest: Instant?
    public internal(set) var hasLeft = false

    /// `validator` and `signer` have no defaults on purpose: a daemon that forgot them would merge
    /// forged records. Tests and the simulator pass `AcceptAll()` and `NoSignature()`.
    public init(
        me: NodeID, config: GossipConfig = GossipConfig(), validator: some RecordValidator,
        signer: some GossipSigner, rng: some RandomNumberGenerator & Sendable
    ) {
        self.me = me
        self.config = config
        self.validator = validator
        self.signer = signer
        self.rng = rng
    }

    /// Rules that changed while running (an owner evicted a member): what is merged from now
    /// on follows them, and present members they no longer let lead stop being candidates.
    /// Nothing already merged is re-checked; the caller refuses the rest of what it must.
    public mutating func replaceValidator(_ validator: some RecordValidator) {
        self.validator = validator
        for record in members where record.owner != me && !validator.canLead(record) {
            cannotLead.insert(record.owner)
        }
    }

    // MARK: Reading the view

    /// Present members' records, ourselves included.
    public var members: [MemberRecord] { store.entries.compactMap(\.record) }

    /// The leader this node follows.
    public var leader: NodeID? { liveness.epoch?.leader }

    public var isLeader: Bool { liveness.book != nil }

    /// The newest epoch this node has seen.
    public var epoch: EpochStamp? { liveness.epoch }

    /// The smallest version our next record may carry.
    public var nextOwnVersion: UInt64 {
        max(store.entry(for: me)?.version ?? 0, store.floors[me] ?? 0).adding(saturating: 1)
    }

    /// Hands over (and forgets) the events since the last call.
    public mutating func drainEvents() -> [MembershipEvent] {
        defer { events.removeAll(keepingCapacity: true) }
        return events
    }

    // MARK: Driving

    /// Starts from a saved replica (the daemon's persisted state, or the simulator's converged
    /// mesh) without raising events: WireGuard can come up from it before any gossip.
    public mutating func restore(_ saved: MemberStore) {
        store = saved
        liveness.restored = saved.presentMembers.contains { $0 != me }
        cannotLead = Set(
            saved.entries.compactMap { entry in entry.record.flatMap { validator.canLead($0) ? nil : entry.id } })
    }

    /// What to save of the epoch line so that a restart keeps the bound (nil until this node
    /// knows the line): the highest number accepted, and where the line could be now.
    public var epochMemory: EpochMemory? {
        guard liveness.anchored, liveness.highestAt != nil else { return nil }
        return EpochMemory(highest: liveness.highestNumber, line: projectedNumber(now: clockNow))
    }

    /// Restores a saved epoch line, `downtime` after it was saved. The line is projected over
    /// the downtime at one epoch per interval, so the restarted node's bound admits the mesh's
    /// line, which went on meanwhile; its own epochs, should it lead, continue from the highest
    /// it had accepted. With the downtime unknown (nil: the wall clock went back, so it cannot be
    /// measured) only the numbering is restored and the bound stays open until this node follows
    /// a leader: a bound that is too tight would refuse the mesh's leader for good.
    public mutating func restoreEpochs(_ memory: EpochMemory, downtime: Duration?, now: Instant) {
        clockNow = max(clockNow, now)
        let saved = min(memory.line, GossipLimits.maxEpoch)
        liveness.highestNumber = min(memory.highest, saved)
        guard let downtime else { return }
        let interval = max(config.heartbeatInterval.nanoseconds, 1)
        liveness.boundNumber = min(saved.adding(saturating: downtime.nanoseconds / interval), GossipLimits.maxEpoch)
        liveness.highestAt = now
        liveness.anchored = true
    }

    /// Bootstrap addresses are tried every round while the view holds nobody but us, and while
    /// we are joining.
    public mutating func setBootstrapPeers(count: Int) {
        bootstrapCount = max(0, count)
    }

    /// Joining: given bootstrap peers, restored nobody, and not yet following any epoch. Until
    /// the mesh's leader is heard, what the first sync brought may be only part of the mesh.
    var isJoining: Bool {
        bootstrapCount > 0 && liveness.epoch == nil && !liveness.restored && store.presentCount > 0
    }

    /// Publishes (or updates) our own record. Its version must exceed everything known of us.
    @discardableResult
    public mutating func publish(_ record: MemberRecord, now: Instant) -> [Outgoing] {
        precondition(record.owner == me, "a node publishes only its own record")
        clockNow = max(clockNow, now)
        hasLeft = false
        let entry = MemberEntry(id: me, record: record)
        return apply(
            store.mergeChanges(entry, validator: validator, rejections: &rejections), spread: true, external: false)
    }

    /// Leaves for good: a signed `.left` tombstone that others do not re-dial. Keep calling `tick`
    /// for a second or so, until the news has spread.
    public mutating func leave(now: Instant) -> [Outgoing] {
        clockNow = max(clockNow, now)
        guard let record = store.record(for: me) else { return [] }
        var tombstone = Tombstone(member: me, version: record.version, kind: .left, issuer: me)
        tombstone.proof = signer.proof(for: tombstone)
        hasLeft = true
        liveness.book = nil
        let entry = MemberEntry(id: me, tombstone: tombstone)
        return apply(
            store.mergeChanges(entry, validator: validator, rejections: &rejections), spread: true, external: false)
    }

    /// Timers: the gossip round, the leader's epochs and prune decisions, leader failover and
    /// re-dialling. Call it at least every `syncInterval`; extra calls are harmless.
    public mutating func tick(now: Instant) -> [Outgoing] {
        clockNow = max(clockNow, now)
        forgetProven(now: now)
        var out = livenessTick(now: now)
        if nextRound.map({ now >= $0 }) ?? true {
            let due = nextRound.map { $0 + config.syncInterval } ?? now + config.syncInterval
            nextRound = due > now ? due : now + config.syncInterval
            out += round(now: now)
        }
        return out
    }

    /// Handles one message from `from`, returning the replies and pushes it causes.
    public mutating func receive(_ message: GossipMessage, from: NodeID, now: Instant) -> [Outgoing] {
        clockNow = max(clockNow, now)
        guard from != me else { return [] }
        guard GossipLimits.accepts(message) else {
            rejections.add(.malformed)
            return []
        }
        // No store holds more than `maxMembers` entries: a digest claiming more is a lie told to
        // draw a large answer (the claim once chose the bucket level).
        if case .digest(let digest) = message, Int(digest.summary.count) > config.maxMembers {
            rejections.add(.outOfBounds)
            return []
        }
        var out: [Outgoing]
        switch message {
        case .digest(let digest): out = receiveDigest(digest, from: from, now: now)
        case .buckets(let buckets): out = receiveBuckets(buckets, from: from)
        case .delta(let delta): out = receiveDelta(delta, from: from, now: now)
        case .heartbeat(let heartbeat): out = receiveHeartbeat(heartbeat, from: from, now: now)
        case .probe(let stamp): out = receiveProbe(stamp, from: from, now: now)
        case .ack(let ack): out = receiveAck(ack, from: from, now: now)
        case .report(let report): out = receiveReport(report, from: from, now: now)
        case .versions(let versions): out = receiveVersions(versions, from: from, now: now)
        }
        if !pendingPushes.isEmpty {
            out += pendingPushes
            pendingPushes.removeAll()
        }
        return out
    }

    // MARK: Applying changes

    /// Turns merged changes into events and bookkeeping; with `spread`, the changes become rumors
    /// and are pushed to `fanout` peers at once.
    mutating func apply(
        _ changes: [(before: MemberEntry?, after: MemberEntry)], spread: Bool, external: Bool = true,
        except: NodeID? = nil
    ) -> [Outgoing] {
        guard !changes.isEmpty else { return [] }
        for (before, after) in changes {
            record(before: before, after: after, external: external)
            if spread {
                rumors.removeAll { $0.id == after.id }
                rumors.append((after.id, config.rumorRounds))
            }
        }
        if rumors.count > GossipLimits.maxRumors { rumors.removeFirst(rumors.count - GossipLimits.maxRumors) }
        guard spread, !pushedThisRound else { return [] }
        pushedThisRound = true
        let news = Updates.rumors(changes.map(\.after))
        let digest = GossipMessage.digest(Digest(summary: store.summary, epoch: liveness.epoch, rumors: news))
        return pickPeers(config.fanout, except: except).map { Outgoing(to: .member($0), message: digest) }
    }

    private mutating func record(before: MemberEntry?, after: MemberEntry, external: Bool) {
        let id = after.id
        let wasPresent = before?.isPresent ?? false
        if let record = after.record {
            events.append(wasPresent ? .updated(id) : .joined(id))
            if !wasPresent { notePresent(id, isNew: before == nil && store.floors[id] == nil) }
            redial.forget(id)
            // Never ourselves: we do not acknowledge our own epochs, so a leader that tracked its
            // own record after republishing (a new endpoint, or a removal of itself it refused)
            // would prune itself three epochs later and, the removal being its own, stay out.
            if id != me {
                let young = isYoung(id)
                liveness.book?.track(id, young: young)
            }
            if validator.canLead(record) { cannotLead.remove(id) } else { cannotLead.insert(id) }
        } else if wasPresent, let tombstone = after.tombstone {
            events.append(tombstone.kind == .left ? .left(id) : .pruned(id))
            liveness.book?.untrack(id)
        } else if before == nil, store.floors[id] == nil {
            // Its removal is the first this node hears of it: it was never present here, so its
            // record arriving later is a newcomer's, not a veteran's coming back.
            noteRemovedUnseen(id)
        }
        if !after.isPresent { cannotLead.remove(id) }
        if let tombstone = after.tombstone, !after.isPresent, id != me {
            if tombstone.kind == .pruned { redial.remember(id) } else { redial.forget(id) }
        }
        // Anything about us that we did not write ourselves means others no longer see our
        // current record: we were pruned while cut off, or restarted without our last version.
        if id == me, external, !hasLeft {
            events.append(.republishNeeded(minimumVersion: after.version.adding(saturating: 1)))
        }
    }
}

extension MemberStore {
    /// `merge` for one entry, shaped like the batch form.
    mutating func mergeChanges(
        _ entry: MemberEntry, validator: some RecordValidator, rejections: inout RejectionCounts
    ) -> [(before: MemberEntry?, after: MemberEntry)] {
        if case .changed(let before, let after) = merge(entry, validator: validator, rejections: &rejections) {
            return [(before, after)]
        }
        return []
    }
}
