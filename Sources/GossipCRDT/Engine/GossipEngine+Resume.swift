/// Coming back: after the node was away (its process stopped, its machine asleep) or its network
/// changed, it catches up at once instead of waiting for its timers.
extension GossipEngine {
    /// The node was away, or its network changed: a gossip round goes out now, to `fanout` peers
    /// (an idle node would otherwise wait up to `idleDigestInterval`), and the
    /// leader it follows gets a plain digest, which it answers with its current signed heartbeat
    /// (`correct`): that is how a member that missed epochs learns the line again, and whether
    /// it was pruned meanwhile.
    ///
    /// The silence measured while away was this node's own, not its leader's: the leader gets
    /// one heartbeat interval to answer before it is suspected (not the whole failover wait,
    /// since it may have failed meanwhile; its successor is accepted at once). `unseen` is how
    /// long the node's monotonic clock did not count (a suspend, when the caller's clock stops
    /// during one): the epoch bound is widened by the epochs the mesh opened meanwhile, or the
    /// leader's heartbeat would look forged.
    public mutating func resume(now: Instant, unseen: Duration = .zero) -> [Outgoing] {
        clockNow = max(clockNow, now)
        guard !hasLeft else { return [] }
        let interval = max(config.heartbeatInterval.nanoseconds, 1)
        if unseen > .zero, liveness.highestAt != nil {
            liveness.boundNumber = min(
                liveness.boundNumber.adding(saturating: unseen.nanoseconds / interval), GossipLimits.maxEpoch)
        }
        let waited = silence.nanoseconds.subtracting(saturating: interval)
        if let heard = liveness.heardAt, now.since(heard).nanoseconds > waited {
            liveness.heardAt = Instant(nanoseconds: now.nanoseconds.subtracting(saturating: waited))
        }
        liveness.nextPull = nil
        nextIdleDigest = nil
        nextRound = now + config.syncInterval
        pushedThisRound = false
        var out: [Outgoing] = []
        let leader = liveness.epoch?.leader
        if let leader, leader != me, store.isPresent(leader) {
            let plain = Digest(summary: store.summary, epoch: liveness.epoch)
            out.append(Outgoing(to: .member(leader), message: .digest(plain)))
        }
        let news = Updates.rumors(Array(currentRumors().suffix(GossipEngine.rumorsPerRound)))
        let digest = GossipMessage.digest(Digest(summary: store.summary, epoch: liveness.epoch, rumors: news))
        out += pickPeers(config.fanout, except: leader).map { Outgoing(to: .member($0), message: digest) }
        if store.presentCount <= 1 || isJoining {
            out += (0..<bootstrapCount).map { Outgoing(to: .bootstrap($0), message: digest) }
        }
        return out
    }

    /// Whether `id` has been present here long enough not to count as young (`provenAfter`),
    /// or was known before this node started. Kept after a prune: the daemon keeps a pruned
    /// client's sessions for a while only if it came of age, so a flood of identities that
    /// never answered costs nothing once they are pruned.
    public func hasComeOfAge(_ id: NodeID) -> Bool { !isYoung(id) }
}
