/// What no malicious member may break, checked on every honest engine that is alive.
///
/// The checks are on state, not on events, so a violation is found whichever message caused it
/// and however long ago; the callers (the hostile tests, the fuzzer) check after every step.
extension HostileMesh {
    /// The time a crashed member may stay in an honest view: the misses before a prune, the ack
    /// window and the failover of a crashed leader fit in three more intervals.
    public var pruneDeadline: Duration {
        config.heartbeatInterval * Int(clamping: config.missedEpochsBeforePrune.adding(saturating: 3))
    }

    /// The highest epoch number an honest engine may follow at `now`: one epoch per interval
    /// since the start, plus the first epoch, a failover's increment and the engine's slack.
    public var epochLimit: UInt64 {
        let elapsed = now.nanoseconds / max(config.heartbeatInterval.nanoseconds, 1)
        return elapsed.adding(saturating: 2).adding(saturating: config.epochSlack)
    }

    /// The most entries an honest store may hold now: the members it started with, plus the
    /// new identities its budget lets in (the burst, then the rate since the start).
    public var entryLimit: Int {
        let rate = Double(config.newMembersPerSecond) * now.since(.zero).seconds
        return honest.count + 1 + config.newMemberBurst + Int(rate) + 1
    }

    /// The violations now, as sentences (empty when all hold). Mutating: it remembers where the
    /// crashed member was seen removed, so that a later return is caught.
    ///
    /// A removal of a live member below its current version is allowed: it removes nothing,
    /// and the engine accepts it from anyone as history (see `refusal(of:now:)` for tombstones).
    /// What counts is that no honest engine ever took a live member out, seen in its events
    /// (``removalsOfLiveMembers``) so that a removal undone by a quick republish is caught too,
    /// and that no honest leader issued a removal of one.
    public mutating func violations() -> [String] {
        var found = removalsOfLiveMembers
        let crashedID = crashed?.id
        for id in alive {
            let engine = engines[id]!
            if let number = engine.epoch?.number, number > epochLimit {
                found.append("\(id) follows epoch \(number), above \(epochLimit) at \(now.nanoseconds / 1_000_000) ms")
            }
            let count = engine.store.count
            if count > config.maxMembers || count > entryLimit {
                found.append("\(id) holds \(count) entries, above \(min(config.maxMembers, entryLimit))")
            }
            for member in honest {
                guard let entry = engine.store.entry(for: member) else {
                    if member != crashedID || !removedIn.contains(id) {
                        found.append("\(id) holds nothing of honest \(member)")
                    }
                    continue
                }
                if let record = entry.record, !(published[member]?.contains(record) ?? false) {
                    found.append("\(id) holds a record of \(member) that \(member) never published: v\(record.version)")
                }
                if member != crashedID, let tombstone = entry.tombstone, honest.contains(tombstone.issuer) {
                    found.append(
                        "\(id) holds a removal of live \(member): \(tombstone.kind) v\(tombstone.version) "
                            + "by \(tombstone.issuer)\(tombstone.issuer == attacker ? " (the attacker)" : "")")
                }
            }
            guard let crashed else { continue }
            let present = engine.store.isPresent(crashed.id)
            if !present {
                removedIn.insert(id)
            } else if removedIn.contains(id) {
                found.append("\(id) holds crashed \(crashed.id) again after removing it")
            } else if now.since(crashed.at) > pruneDeadline {
                found.append(
                    "\(id) still holds \(crashed.id), crashed \(now.since(crashed.at).seconds) s ago "
                        + "(deadline \(pruneDeadline.seconds) s)")
            }
        }
        return found
    }

    /// The leader each alive honest member follows, when they all agree on an honest one.
    public var honestLeader: NodeID? {
        let leaders = Set(alive.map { engines[$0]!.leader })
        guard leaders.count == 1, let leader = leaders.first!, honest.contains(leader) else { return nil }
        return engines[leader]!.isLeader ? leader : nil
    }

    /// Whether an honest member holds a sybil.
    public var holdsSybil: Bool {
        alive.contains { id in sybils.contains { engines[id]!.store.isPresent($0) } }
    }

    /// Rejections summed over the alive honest members.
    public func rejections(_ reason: RejectReason) -> Int {
        alive.reduce(0) { $0 + engines[$1]!.rejections[reason] }
    }
}
