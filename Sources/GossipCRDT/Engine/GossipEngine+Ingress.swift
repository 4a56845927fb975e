/// What a member may put into this node's store, beyond the store's own rules (newer-only, no
/// record at or below a removal) and the validator's (signatures, addresses).
///
/// The sender of a batch is authenticated, but a batch mostly carries other members' entries, so
/// the checks are about the entries, judged on what this node holds:
/// - no version above ``GossipLimits/maxVersion``, and no removal more than
///   ``GossipLimits/versionStep`` above the version held (a removal of version 2^64 − 1 would bar
///   the member for good; the step leaves room for a leader that saw a few more publishes);
/// - a prune of a member that is present here only from the leader this node follows or expects:
///   deciding that a member failed is the leader's power, not any member's;
/// - new identities (a record or a removal of a member never held) only while the store has
///   room and at a bounded rate, so a flood of fresh keys costs bounded memory and cannot outrun
///   the leader's pruning of those that never answer.
extension GossipEngine {
    mutating func mergeIncoming(_ updates: Updates, now: Instant) -> [(before: MemberEntry?, after: MemberEntry)] {
        var admitted = Updates()
        // New identities admitted from this batch: the store grows only when it merges, so the
        // room left is the store's count plus these.
        var fresh = Set<NodeID>()
        // The new identities' records, which `refusal` just validated: the store need not
        // check them again (`Prevalidated`).
        var checked: [NodeID: MemberRecord] = [:]
        // Lowest keys first: when the new-identity budget runs out (a joiner's first sync of a
        // mesh larger than the burst), the members that lead are among those admitted, so the
        // joiner can follow the epoch, and answer it, before the rest of the mesh trickles in.
        let ordered = updates.records.count > 1 ? updates.records.sorted { $0.owner < $1.owner } : updates.records
        for record in ordered {
            let wasFresh = fresh.contains(record.owner)
            if let reason = refusal(of: record, fresh: &fresh, now: now) {
                rejections.add(reason)
            } else {
                if !wasFresh, fresh.contains(record.owner) { checked[record.owner] = record }
                admitted.records.append(record)
            }
        }
        for tombstone in updates.tombstones {
            if let reason = refusal(of: tombstone, fresh: &fresh, now: now) {
                rejections.add(reason)
                noteRefusedRemovalOfSelf(tombstone, now: now)
            } else {
                admitted.tombstones.append(tombstone)
            }
        }
        let changes = store.merge(
            admitted, validator: Prevalidated(base: validator, records: checked), rejections: &rejections)
        reissueRemovals(of: admitted.records)
        return changes
    }

    /// A member may hold a record that everyone else removed, under a removal it refuses
    /// because its issuer never led in its view (the other half's leader after a partition): it
    /// would keep a dead member forever. The leader, receiving such a record, removes it again
    /// in its own name, which that member accepts from its leader. One version higher, so that
    /// the new removal wins over the old one everywhere; a member that is alive republishes
    /// above it, as after any prune.
    private mutating func reissueRemovals(of records: [MemberRecord]) {
        guard liveness.book != nil else { return }
        var changes: [(before: MemberEntry?, after: MemberEntry)] = []
        for record in records {
            guard let held = store.entry(for: record.owner), !held.isPresent, let removal = held.tombstone,
                removal.kind == .pruned, removal.issuer != me, record.version <= removal.version
            else { continue }
            var tombstone = Tombstone(
                member: record.owner, version: removal.version.adding(saturating: 1), kind: .pruned, issuer: me)
            tombstone.proof = signer.proof(for: tombstone)
            changes += store.mergeChanges(
                MemberEntry(id: record.owner, tombstone: tombstone), validator: validator, rejections: &rejections)
        }
        pendingPushes += apply(changes, spread: true, external: false)
    }

    /// After a partition each half has pruned the other, and each refuses the other's removals
    /// (their issuer is not its leader): without help neither half would learn that it must
    /// republish. So a removal of this node's current record is reason enough to republish at a
    /// higher version, even when it is refused, but at most once per `republishGap`: a member
    /// that forges such removals makes this node republish at that rate, not at its own.
    private mutating func noteRefusedRemovalOfSelf(_ tombstone: Tombstone, now: Instant) {
        guard tombstone.member == me, !hasLeft, let own = store.record(for: me), tombstone.version == own.version
        else { return }
        if let last = lastRepublishForRemoval, now.since(last) < republishGap { return }
        lastRepublishForRemoval = now
        events.append(.republishNeeded(minimumVersion: own.version.adding(saturating: 1)))
    }

    var republishGap: Duration { config.heartbeatInterval * 5 }

    private mutating func refusal(of record: MemberRecord, fresh: inout Set<NodeID>, now: Instant) -> RejectReason? {
        guard record.version <= GossipLimits.maxVersion else { return .outOfBounds }
        guard store.entry(for: record.owner) == nil, !fresh.contains(record.owner) else { return nil }
        if let floor = store.floors[record.owner], record.version <= floor { return nil }
        // A new entry. Checked before it may spend the budget, so that forged records cannot
        // use up the room honest joiners need; the store takes this check as its own.
        guard validator.accept(record) else { return .invalid }
        return admitEntry(record.owner, fresh: &fresh, now: now)
    }

    /// Room and rate for an entry the store does not hold. A member whose removal was compacted
    /// is not new (a healed half of a partition comes back at once, so it spends no rate), but
    /// it takes room again: without that, identities pruned and compacted could return together
    /// past `maxMembers`, however slowly each was admitted.
    private mutating func admitEntry(_ id: NodeID, fresh: inout Set<NodeID>, now: Instant) -> RejectReason? {
        guard store.count + fresh.count < config.maxMembers else { return .capacity }
        if store.floors[id] == nil, !isCatchingUp {
            guard newIdentities.take(now: now, config: config) else { return .capacity }
        }
        fresh.insert(id)
        return nil
    }

    private mutating func refusal(of tombstone: Tombstone, fresh: inout Set<NodeID>, now: Instant) -> RejectReason? {
        let held = store.entry(for: tombstone.member)
        let ceiling = (held?.version ?? 0).adding(saturating: GossipLimits.versionStep)
        guard tombstone.version <= min(ceiling, GossipLimits.maxVersion) else { return .outOfBounds }
        if tombstone.kind == .pruned {
            let issuer = tombstone.issuer
            guard store.isPresent(issuer), !cannotLead.contains(issuer) else { return .notEntitled }
            // Only a removal that would take a present member out needs the leader's authority; one
            // that changes no presence here (an older removal, or one of a member already removed)
            // is history every replica must come to hold alike, or their summaries never agree.
            if let record = held?.record, tombstone.version >= record.version,
                !liveness.recentLeaders.contains(issuer), !expects(issuer, now: now)
            {
                return .notEntitled
            }
        }
        // The removal of an identity never seen is a new entry as much as its record would be:
        // without the same room and rate, any member could fill the store with removals of
        // fresh keys it signs itself.
        guard store.entry(for: tombstone.member) == nil, !fresh.contains(tombstone.member) else { return nil }
        if let floor = store.floors[tombstone.member], tombstone.version < floor { return nil }
        guard validator.accept(tombstone, issuer: store.record(for: tombstone.issuer)) else { return .invalid }
        return admitEntry(tombstone.member, fresh: &fresh, now: now)
    }
}

/// A token bucket for identities this node has never seen.
extension GossipEngine {
    /// A joiner filling its view (bootstrap peers, nothing restored, fewer epochs followed
    /// than it takes a member to come of age): the mesh it joins is not a flood, and with the
    /// rate in force its view of 10,000 members would take minutes to fill, during which it
    /// could not prune (or be told of the prune of) anyone it had not heard of yet. Only room
    /// bounds it. Whoever was in the mesh before keeps its rate, so a flood still cannot grow
    /// their views faster than the leader prunes; and what the joiner learns after its first
    /// epoch is young to it, so a sybil it was fed cannot lead it.
    var isCatchingUp: Bool {
        bootstrapCount > 0 && !liveness.restored && liveness.epochsAdopted < config.provenAfterEpochs
    }
}

struct NewIdentityBudget: Sendable {
    private var tokens: Double?
    private var refilledAt = Instant.zero

    mutating func take(now: Instant, config: GossipConfig) -> Bool {
        let burst = Double(max(config.newMemberBurst, 1))
        var available = tokens ?? burst
        let elapsed = now.since(refilledAt).seconds
        if tokens != nil { available = min(burst, available + elapsed * Double(max(config.newMembersPerSecond, 0))) }
        refilledAt = max(refilledAt, now)
        guard available >= 1 else {
            tokens = available
            return false
        }
        tokens = available - 1
        return true
    }
}

/// A validator that takes the records it was given as already accepted by `base`.
///
/// A new member's record was checked by `base` before it could spend the new-identity budget,
/// and then again by the store as it merged: every signature, key derivation and address rule
/// twice, for every member a joiner learns (a mass join of 99 on two cores is CPU-bound, and
/// record checks were its largest cost). The validator is a pure function of the record, so
/// the second answer is the first; only the exact record checked is taken (`MemberRecord` is
/// compared whole, payload included), anything else goes to `base`.
struct Prevalidated: RecordValidator {
    let base: any RecordValidator
    let records: [NodeID: MemberRecord]

    func accept(_ record: MemberRecord) -> Bool { records[record.owner] == record || base.accept(record) }
    func accept(_ tombstone: Tombstone, issuer: MemberRecord?) -> Bool { base.accept(tombstone, issuer: issuer) }
    func accept(_ heartbeat: Heartbeat, leader: MemberRecord) -> Bool { base.accept(heartbeat, leader: leader) }
    func canLead(_ record: MemberRecord) -> Bool { base.canLead(record) }
}
