import GossipCRDT

/// Coming back at once: a laptop that slept, a daemon that was stopped or restarted, a host
/// whose network changed (docs/operations.md, "Sleep, wake, network changes and restarts").
///
/// WireGuard alone recovers slowly: a side whose session the other dropped keeps sending on it
/// and starts a new handshake only after 15 s without an answer, and a peer cannot start one
/// towards a client behind NAT at all. So on every such event the node starts fresh handshakes
/// itself, from the side that can reach the other (a client towards its peers, a peer towards
/// the other peers; never a peer towards a client, whose NAT mapping it cannot know is alive),
/// and keeps starting them until one completes after the event; and it gossips at once instead
/// of waiting for its timers. Peers keep a pruned client's sessions for `prunedClientGrace`, so
/// a laptop back within that time finds its data plane as it left it.
extension MeshNode {
    /// Why this node is catching up, and since when (`status` shows it).
    public struct Reconnect: Equatable, Sendable {
        public var reason: String
        public var since: Instant
        /// The same moment by the wall clock, milliseconds since 1970.
        public var sinceWallMillis: UInt64
        /// The epoch this node followed when it began: it is back in step once it follows a
        /// newer one (or leads).
        var epoch: EpochStamp?
    }

    /// A tick this much later than the one before, or a wall clock that ran this much further
    /// than the monotonic one between two ticks, means the node was away: as long as the leader
    /// takes to prune a member that stopped acknowledging, so a shorter stall, after which
    /// nothing needs repairing, does not count.
    public var wakeGap: Duration {
        settings.gossip.heartbeatInterval * Int(clamping: max(settings.gossip.missedEpochsBeforePrune, 1))
    }

    /// No frame from any member for this long, with other members present: `status` says the
    /// mesh is reconnecting even when this node noticed nothing (its uplink went away).
    public var quietLimit: Duration { settings.gossip.heartbeatInterval * 5 }

    // MARK: Inputs

    /// The host's addresses or routes changed (the link monitor said so): a laptop on another
    /// network, a default route that moved, an interface that came up. Sessions are renewed from
    /// here (the other side learns the new address from the handshake), the endpoints a peer
    /// publishes follow the host's addresses, and gossip goes out at once.
    public mutating func networkChanged(
        hostEndpoints endpoints: [Endpoint], what: String, now: Instant, wallMillis: UInt64
    ) -> [Effect] {
        guard eviction == nil, !leaving else { return [] }
        lastWallMillis = wallMillis
        var effects: [Effect] = [.log(.notice, "the network changed (\(what)): restarting handshakes and syncing now")]
        beginReconnect("the network changed (\(what))", now: now, wallMillis: wallMillis)
        renewSessions(due: now, since: Self.wallSeconds(wallMillis))
        effects += perform(gossip.resume(now: now, unseen: .zero), now: now)
        let published = (ownEndpoints, ownCandidates)
        hostEndpoints = endpoints
        effects += pathsNetworkChanged(now: now)
        if ownEndpoints != published.0 || ownCandidates != published.1 {
            effects.append(
                .log(
                    .info,
                    "republishing this node's endpoints: \(ownEndpoints.map(\.description).joined(separator: ", "))"))
            effects += publishOwnRecord(now: now, failure: "cannot republish this node's endpoints")
        }
        effects += handleEvents(now: now)
        effects += retryHandshakes(now: now)
        return effects
    }

    // MARK: Noticing

    /// At each tick: was this node away since the last one? Either clock can tell: a process
    /// that was stopped sees both run on, so its tick is late; a machine that was suspended
    /// sees the wall clock run on while a monotonic clock that stops in suspend did not.
    mutating func noticeWake(now: Instant, wallMillis: UInt64) -> [Effect] {
        defer { lastTick = (now, wallMillis) }
        guard let last = lastTick else { return [] }
        let monotonic = now.since(last.now)
        let wall =
            wallMillis >= last.wallMillis ? Duration.milliseconds(Int64(clamping: wallMillis - last.wallMillis)) : .zero
        let unseen = wall > monotonic ? wall - monotonic : .zero
        let how: String
        if monotonic >= wakeGap {
            how = "a tick came \(Self.text(monotonic)) after the one before"
        } else if unseen >= wakeGap {
            how = "the wall clock moved \(Self.text(wall)) while the monotonic one moved \(Self.text(monotonic))"
        } else {
            return []
        }
        return woke(away: max(monotonic, wall), unseen: unseen, how: how, now: now, wallMillis: wallMillis)
    }

    /// Back after `away`: handshakes with every member this node can reach are restarted, and
    /// a gossip round and a pull of the leader's epoch go out now.
    mutating func woke(away: Duration, unseen: Duration, how: String, now: Instant, wallMillis: UInt64) -> [Effect] {
        guard !leaving else { return [] }
        var effects: [Effect] = [
            .log(.notice, "back after \(Self.text(away)) away (\(how)): restarting handshakes and syncing now")
        ]
        beginReconnect("back after \(Self.text(away)) away", now: now, wallMillis: wallMillis)
        renewSessions(due: now, since: Self.wallSeconds(wallMillis))
        effects += perform(gossip.resume(now: now, unseen: unseen), now: now)
        return effects
    }

    /// This node learnt that the leader pruned it: every other member dropped its sessions with
    /// it (but keeps a client's for the grace), and re-adds them as the republished record
    /// reaches it. A peer is then poked by every member that re-adds it (`HandshakePoke`), which
    /// opens the sessions from their side; a client is reachable from its own side only, so it
    /// starts the handshakes again once the others have had time to re-add it, and sooner
    /// towards a member that shows it holds this node's record (`peerHasOurView`).
    mutating func wasPruned(now: Instant) -> [Effect] {
        beginReconnect("pruned by the leader", now: now, wallMillis: lastWallMillis)
        guard options.role == .client else { return [] }
        let since = Self.wallSeconds(reconnect?.sinceWallMillis ?? lastWallMillis)
        renewSessions(due: now + settings.reconcileDebounce + .milliseconds(200), since: since, restartCount: true)
        return []
    }

    /// A member pruned: a client's sessions stay for the grace, if it had been a member for a
    /// while (identities that appeared and never answered, a sybil flood, get none).
    mutating func notePruned(_ id: NodeID, now: Instant) {
        guard settings.prunedClientGrace > .zero, records[id]?.role == .client, engine.hasComeOfAge(id) else {
            return
        }
        prunedClients[id] = now
    }

    /// Once per tick: the end of a pruned client's grace (its sessions go at the reconcile),
    /// and the end of a reconnect.
    mutating func roamingTick(now: Instant, wallMillis: UInt64) -> [Effect] {
        var effects: [Effect] = []
        if !prunedClients.isEmpty {
            let expired = prunedClients.filter { now.since($0.value) >= settings.prunedClientGrace }
            if !expired.isEmpty {
                for id in expired.keys { prunedClients[id] = nil }
                reconcileDue = min(reconcileDue ?? now, now)
                effects.append(
                    .log(.info, "grace over for \(expired.count) pruned client(s): their sessions go"))
            }
        }
        if let reconnect, caughtUp(since: reconnect) {
            effects.append(
                .log(
                    .notice,
                    "caught up \(Self.text(now.since(reconnect.since))) after: \(reconnect.reason) (following "
                        + "\(engine.epoch.map { "epoch \($0.number)" } ?? "no epoch"), sessions renewed)"))
            self.reconnect = nil
        }
        return effects
    }

    // MARK: Sessions

    /// The members this node starts handshakes with: for a client, the peers it has sessions
    /// with (its attachment and its exits); for a peer, every other peer. Never a client, which
    /// is behind NAT: only it can open its sessions.
    var initiatedSessions: [WireGuardKey] {
        let me = identity.wireGuardPublicKey
        var keys: [WireGuardPublicKey]
        if options.role == .client {
            keys = Array(topology.directExits(of: me))
            if let attachment = topology.gateway(of: me), attachment != me { keys.append(attachment) }
        } else {
            keys = topology.peers.filter { $0 != me }
        }
        return keys.compactMap { WireGuardKey(bytes: $0.bytes) }.sorted { $0.base64 < $1.base64 }
    }

    /// The effect that starts a due retry: a first handshake, or a renewal.
    func restart(_ key: WireGuardKey, _ retry: HandshakeRetry) -> Effect {
        retry.since.map { .renewHandshake(key, after: $0) } ?? .restartHandshake(key)
    }

    /// Starts fresh handshakes with `initiatedSessions` at `due`, repeated (as first handshakes
    /// are) until one completes after `since`. `restartCount`: five more attempts even for a
    /// session already being renewed.
    mutating func renewSessions(due: Instant, since: Double, restartCount: Bool = false) {
        for key in initiatedSessions {
            if var retry = handshakeRetries[key] {
                retry.due = min(retry.due, due)
                retry.since = min(retry.since ?? since, since)
                if restartCount { retry.attempts = 0 }
                handshakeRetries[key] = retry
            } else {
                handshakeRetries[key] = HandshakeRetry(due: due, attempts: 0, since: since)
            }
        }
    }

    /// The members in this node's sessions: the present ones, and clients pruned within the
    /// grace (unless evicted since).
    func membersInSessions(now: Instant) -> [NodeID] {
        var ids = liveMembers.map(\.owner)
        guard !prunedClients.isEmpty else { return ids }
        for (id, at) in prunedClients.sorted(by: { $0.key < $1.key })
        where now.since(at) < settings.prunedClientGrace && !engine.store.isPresent(id)
            && gossip.ledger?.isEvicted(id) != true && records[id] != nil
        {
            ids.append(id)
        }
        return ids
    }

    /// The record a member's sessions are computed from: a client in its grace keeps its own
    /// addresses, not the routes it advertised (they fail over to other advertisers at once).
    func sessionRecord(of id: NodeID) -> NodeRecord? {
        guard var record = records[id] else { return nil }
        if !engine.store.isPresent(id) { record.routes = [] }
        return record
    }

    // MARK: Reconnecting

    /// Starts a reconnect, or adds `reason` to the one under way (a wake, then the news that
    /// the leader pruned this node meanwhile).
    mutating func beginReconnect(_ reason: String, now: Instant, wallMillis: UInt64) {
        guard var current = reconnect else {
            reconnect = Reconnect(reason: reason, since: now, sinceWallMillis: wallMillis, epoch: engine.epoch)
            return
        }
        if !current.reason.contains(reason) { current.reason += "; \(reason)" }
        reconnect = current
    }

    /// Back in step: following a newer epoch than when the reconnect began (or leading, or
    /// alone), present in its own view, and no session still waiting for its renewal.
    func caughtUp(since reconnect: Reconnect) -> Bool {
        let following = engine.isLeader || engine.store.presentCount <= 1 || engine.epoch != reconnect.epoch
        return following && engine.store.isPresent(identity.nodeID)
            && !handshakeRetries.values.contains { $0.since != nil }
    }

    /// What `status` shows: the reconnect under way, or a mesh that has been silent too long.
    func reconnectingView(now: Instant) -> ReconnectingView? {
        if let reconnect {
            return ReconnectingView(sinceMillis: reconnect.sinceWallMillis, reason: reconnect.reason)
        }
        guard engine.store.presentCount > 1, let lastFrame, now.since(lastFrame) >= quietLimit else { return nil }
        let silent = now.since(lastFrame)
        let since = lastWallMillis.subtracting(saturating: UInt64(silent.nanoseconds / 1_000_000))
        return ReconnectingView(sinceMillis: since, reason: "no frame from any member for \(Self.text(silent))")
    }

    // MARK: Helpers

    static func wallSeconds(_ millis: UInt64) -> Double { Double(millis) / 1000 }

    /// "20.3 s", for the log.
    static func text(_ duration: Duration) -> String {
        let seconds = duration.seconds
        return seconds < 10 ? "\((seconds * 10).rounded() / 10) s" : "\(Int(seconds.rounded())) s"
    }
}
