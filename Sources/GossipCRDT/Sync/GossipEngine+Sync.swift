/// Push-pull anti-entropy.
///
/// An exchange takes at most four messages and usually one:
/// 1. `digest` (summary, epoch, recent news). If the receiver, after merging the news, has the
///    same summary, the exchange is over: agreeing replicas spend one small message.
/// 2. Otherwise the receiver answers with its own news (a reply digest) when it has news the
///    sender did not send, or else with its bucket hashes.
/// 3. The side that gets bucket hashes sends all its entries in the buckets that differ...
/// 4. ...and the other side answers with those of its entries in the same buckets that are newer.
extension GossipEngine {
    mutating func receiveDigest(_ digest: Digest, from: NodeID, now: Instant) -> [Outgoing] {
        loseInterest(in: digest.rumors)
        var out = reissueRemovals(against: digest.rumors)
        let changes = mergeIncoming(digest.rumors, now: now)
        out += apply(changes, spread: true, except: from)
        let (corrections, senderAhead) = hint(digest.epoch, from: from, now: now)
        out += corrections
        guard store.summary != digest.summary else {
            // Replicas agree, but the sender follows a newer epoch: our epoch in a reply makes it
            // send the signed heartbeat, which is the only way we adopt an epoch.
            guard senderAhead, !digest.isReply else { return out }
            let reply = Digest(summary: store.summary, epoch: liveness.epoch, isReply: true)
            return out + [Outgoing(to: .member(from), message: .digest(reply))]
        }
        if !digest.isReply {
            let sent = digest.rumors.entries
            let mine = Updates.rumors(currentRumors().filter { sent[$0.id] != $0 })
            if !mine.isEmpty {
                let reply = Digest(summary: store.summary, epoch: liveness.epoch, rumors: mine, isReply: true)
                return out + [Outgoing(to: .member(from), message: .digest(reply))]
            }
        }
        // While a little news is still travelling, rumors will settle the difference; comparing
        // buckets now would ship whole buckets for entries that are already on their way. A burst
        // too large for rumors (a healed partition), or a newcomer's first sync, goes to buckets
        // at once, so anti-entropy never starves behind a stream of news. A joiner that has
        // followed no epoch counts as a newcomer while the other side holds more than it: the
        // news in its first reply (another joiner) would otherwise pass for the whole mesh, and
        // its bootstrap peer may be the only member it can reach.
        let counts = (store.count, Int(digest.summary.count))
        let newcomer = min(counts.0, counts.1) <= 1 || (isJoining && counts.0 < counts.1)
        let small = GossipLimits.maxRumors / 4
        let settling =
            (!digest.rumors.isEmpty || !rumors.isEmpty) && digest.rumors.count < small && rumors.count < small
        if settling && !newcomer && abs(counts.0 - counts.1) <= GossipLimits.maxRumors { return out }
        // The finer of the two sides' levels: a claimed count is unverified, and a level chosen
        // from it would let a 100-byte digest draw 4,096 bucket hashes. Buckets finer than the
        // smaller replica only split entries it does not have anyway.
        let level = MemberStore.bucketLevel(forCount: min(counts.0, counts.1))
        let buckets = BucketDigest(level: UInt8(level), hashes: store.bucketHashes(level: level))
        return out + [Outgoing(to: .member(from), message: .buckets(buckets))]
    }

    mutating func receiveBuckets(_ digest: BucketDigest, from: NodeID) -> [Outgoing] {
        let level = Int(digest.level)
        let mine = store.bucketHashes(level: level)
        var differing: [UInt16] = []
        for index in mine.indices where mine[index] != digest.hashes[index] { differing.append(UInt16(index)) }
        guard !differing.isEmpty else { return [] }
        return offer(differing, level: digest.level, to: from)
    }

    /// The newest rumors a round's digests carry. A burst of news (a healed partition, where
    /// every member republishes) filled each digest with 64 entries, 16 KB, to three peers a
    /// round at every node: 0.8 MB per node at N = 1000. Beyond a handful, versions-first
    /// anti-entropy moves entries more cheaply than rumors do.
    static let rumorsPerRound = 8

    /// Room for entries in one delta: the frame limit less the fixed fields and the bucket list.
    static let deltaBudget = GossipLimits.maxMessageBytes - 1024

    /// Entries learnt from a delta are repairs, not news: they are neither pushed nor re-gossiped,
    /// so a newcomer's first full sync does not flood the mesh. Identities nobody here had heard
    /// of, with keys below the leader's, go to the leader as well (one delta, still not news):
    /// youth is counted from when each member first hears of an identity, and the leader, which
    /// prunes those that never answer, must hear of them about as soon as anyone does. Delivered by delta to one member only, a
    /// flood of low-keyed identities came of age there before the leader knew them, that member
    /// followed one of them, and the leader pruned it (HostileRegressionTests, seed
    /// 15612579038015615021). Spreading them as news instead cost the prune of a crashed
    /// leader its deadline: the flood took the rumors' room.
    mutating func receiveDelta(_ delta: Delta, from: NodeID, now: Instant) -> [Outgoing] {
        let theirs = delta.updates.entries
        var out = reissueRemovals(against: delta.updates)
        let changes = mergeIncoming(delta.updates, now: now)
        _ = apply(changes, spread: false)
        // Only keys below the leader's: no other identity can become the rightful leader here.
        let leader = liveness.epoch?.leader
        let strangers = changes.filter { change in
            change.before == nil && change.after.isPresent && change.after.id != from
                && leader.map { change.after.id < $0 } ?? false
        }
        if !strangers.isEmpty, !isJoining, let leader, leader != me, leader != from {
            out.append(
                Outgoing(
                    to: .member(leader),
                    message: .delta(
                        Delta(
                            level: delta.level, buckets: [], updates: Updates.rumors(strangers.map(\.after)),
                            wantsReply: false))))
        }
        guard delta.wantsReply else { return out }
        let ahead = store.entries(inBuckets: delta.buckets, level: Int(delta.level)).filter {
            $0.isAhead(of: theirs[$0.id])
        }
        return out + deltas(of: ahead, level: delta.level, to: from)
    }

    /// One gossip round: a digest to `fanout` peers while there is news (`idleFanout` when there
    /// is none), to the bootstrap peers while we know nobody or are still joining, and to one
    /// pruned member that is due to be re-dialled.
    mutating func round(now: Instant) -> [Outgoing] {
        let news = currentRumors()
        pushedThisRound = false
        for index in rumors.indices { rumors[index].roundsLeft -= 1 }
        rumors.removeAll { $0.roundsLeft <= 0 }
        let rumorUpdates = Updates.rumors(Array(news.suffix(GossipEngine.rumorsPerRound)))
        let digest = GossipMessage.digest(Digest(summary: store.summary, epoch: liveness.epoch, rumors: rumorUpdates))
        var out: [Outgoing] = []
        let agrees = agreesWithLeader(now: now)
        if !news.isEmpty || !agrees || now >= nextIdleDigest ?? .zero {
            let peers = pickPeers(news.isEmpty ? (agrees ? config.idleFanout : config.repairFanout) : config.fanout)
            out += peers.map { Outgoing(to: .member($0), message: digest) }
            if news.isEmpty, agrees { nextIdleDigest = now + config.idleDigestInterval }
        }
        // The bootstrap addresses are the only ones a joiner knows to be reachable: the members
        // its first sync names may all sit behind NAT.
        if store.presentCount <= 1 || isJoining {
            out += (0..<bootstrapCount).map { Outgoing(to: .bootstrap($0), message: digest) }
        }
        if let id = redial.next(now: now, config: config) {
            let plain = Digest(summary: store.summary, epoch: liveness.epoch)
            out.append(Outgoing(to: .member(id), message: .digest(plain)))
        }
        return out
    }

    /// Whether the epoch we follow is fresh and its leader signed our own summary into it (or
    /// we lead: members that differ from us come to us). Then an idle digest would only find
    /// agreement.
    func agreesWithLeader(now: Instant) -> Bool {
        if liveness.book != nil { return true }
        guard let signed = liveness.signed, signed.epoch == liveness.epoch, !isJoining,
            let heard = liveness.heardAt, now.since(heard) <= config.heartbeatInterval * 2
        else { return false }
        return signed.stableSummary == store.summary.hash
    }

    /// A member back from a cut-off longer than the tombstone retention still holds records of
    /// members whose removal everyone else has compacted; it would keep them forever. The leader,
    /// seeing such a record hit a floor, issues the removal again so that it reaches the member.
    mutating func reissueRemovals(against updates: Updates) -> [Outgoing] {
        guard liveness.book != nil, !store.floors.isEmpty else { return [] }
        var changes: [(before: MemberEntry?, after: MemberEntry)] = []
        for record in updates.records {
            // A courtesy to a stale member, so it waits while the store is full.
            guard let floor = store.floors[record.owner], record.version <= floor,
                store.entry(for: record.owner) == nil, store.count < config.maxMembers
            else { continue }
            var tombstone = Tombstone(member: record.owner, version: floor, kind: .pruned, issuer: me)
            tombstone.proof = signer.proof(for: tombstone)
            changes += store.mergeChanges(
                MemberEntry(id: record.owner, tombstone: tombstone), validator: validator, rejections: &rejections)
        }
        return apply(changes, spread: true, external: false)
    }

    /// Stops spreading news that someone else sent us again: the counter variant of rumor
    /// mongering. It spares the copies that a burst of news (a healed partition, hundreds of
    /// entries at once) would otherwise make every node send for `rumorRounds` rounds; stragglers
    /// are left to anti-entropy.
    mutating func loseInterest(in heard: Updates) {
        guard !rumors.isEmpty, !heard.isEmpty else { return }
        let entries = heard.entries
        rumors.removeAll { rumor in
            guard let sent = entries[rumor.id] else { return false }
            return store.entry(for: rumor.id) == sent
        }
    }

    /// The entries behind the current rumors, newest last.
    func currentRumors() -> [MemberEntry] {
        rumors.compactMap { store.entry(for: $0.id) }
    }
}

extension GossipLimits {
    /// The bounds a receiver enforces before looking at a message.
    static func accepts(_ message: GossipMessage) -> Bool {
        switch message {
        case .digest(let digest):
            return digest.rumors.count <= maxRumors && digest.rumors.isWithinBounds
        case .buckets(let buckets):
            return buckets.level <= maxBucketLevel && buckets.hashes.count == 1 << (4 * Int(buckets.level))
        case .delta(let delta):
            let limit = 1 << (4 * Int(min(delta.level, UInt8(maxBucketLevel))))
            return delta.level <= maxBucketLevel && delta.buckets.count <= limit
                && delta.buckets.allSatisfy { Int($0) < limit } && delta.updates.count <= maxEntries
                && delta.updates.isWithinBounds
        case .heartbeat(let heartbeat):
            return heartbeat.proof.count <= maxProofBytes
        case .probe, .ack:
            return true
        case .report(let report):
            return report.missing.count <= maxReported
        case .versions(let versions):
            let limit = 1 << (4 * Int(min(versions.level, UInt8(maxBucketLevel))))
            return versions.level <= maxBucketLevel && versions.buckets.count <= limit
                && versions.buckets.allSatisfy { Int($0) < limit } && versions.entries.count <= maxEntries
        }
    }
}

extension Updates {
    /// News for a digest: the newest entries first, as many as fit the count and byte limits.
    static func rumors(_ entries: [MemberEntry]) -> Updates {
        var out = Updates()
        var size = 0
        for entry in entries.reversed() {
            guard out.count < GossipLimits.maxRumors, size + entry.wireSize <= GossipEngine.deltaBudget else { break }
            out.append(entry)
            size += entry.wireSize
        }
        return out
    }

    var isWithinBounds: Bool {
        records.allSatisfy { $0.payload.count <= GossipLimits.maxPayloadBytes }
            && tombstones.allSatisfy { $0.proof.count <= GossipLimits.maxProofBytes }
    }
}
