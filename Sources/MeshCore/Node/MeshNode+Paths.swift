import GossipCRDT

/// Direct paths between clients (docs/routing.md, "Direct paths"): the candidates this node
/// publishes, where its peers see it from, punching with the members it would otherwise reach
/// through relays, probes and `smegctl ping`.
extension MeshNode {
    /// What this node keeps about paths besides `DirectPaths`.
    struct PathState {
        var direct = DirectPaths()
        /// Where each peer this node asked sees its WireGuard packets come from.
        var reflexive: [NodeID: Endpoint] = [:]
        /// The where-am-i question outstanding, and when it was sent.
        var asked: (to: NodeID, nonce: UInt64, at: Instant)?
        /// When to ask next; nil asks at once.
        var askDue: Instant?
        /// Questions still to ask at the short interval: after a start or a network change
        /// the peer may not have seen this node's packets from where it is now.
        var quickAsks = 3
        /// Members whose question waits for the device to be read, with their nonces and where
        /// the question came from (the answer goes there: a member that just moved is not
        /// reached at the address this node last learnt for it).
        var askers: [NodeID: (nonce: UInt64, source: PeerAddress)] = [:]
        var lastObservation: Instant?
        /// Pings in flight by nonce: to whom and since when.
        var pings: [UInt64: (key: WireGuardPublicKey, at: Instant)] = [:]
        var counter: UInt64 = 0
        /// The gauges last exported.
        var exported: (direct: Int, punching: Int, relayed: Int)?
        /// Members this node reaches through a relay or a punched path, as of the last
        /// reconcile (the members without a session of the topology's own).
        var withoutSession = 0
        /// The members this node keeps a session of the topology's own with, as of the last
        /// reconcile: views, questions and relayed frames ask it per member or per message, and
        /// computing this node's routing costs O(N) each time (5,000 members, a status call).
        var sessions: Set<WireGuardPublicKey> = []
        /// Frames passed on for each member in the current second (`relay`).
        var relayed: [NodeID: (second: Instant, count: Int)] = [:]
    }

    /// Askers and pings kept at most: every other member asking at once is still bounded.
    static let maxPathWaiters = 64
    /// Frames a peer passes on for one member per second: a pair's punching needs a few.
    static let relaysPerSecond = 10
    /// How often a client asks its peer where it is seen from once it has an answer.
    static let askInterval: Duration = .seconds(60)
    /// How soon it asks again while it has none, or just after a change.
    static let askRetry: Duration = .seconds(2)

    /// Direct paths need WireGuard on both ends, and a client on this end: peers already keep a
    /// session with every peer and with their clients.
    var punches: Bool { options.role == .client && !settings.controlPlaneOnly && settings.directPaths }

    /// The candidates this node publishes: its interface addresses and where its peers see it.
    var ownCandidates: [PathCandidate] {
        guard punches else { return [] }
        let reflexive = paths.reflexive.sorted { $0.key < $1.key }.map(\.value)
        var unique: [Endpoint] = []
        for endpoint in reflexive where !unique.contains(endpoint) { unique.append(endpoint) }
        return PathCandidates.own(local: hostEndpoints, reflexive: unique, overlay: OverlayAddress.meshPrefix(of: mesh))
    }

    // MARK: Deciding which pairs punch

    /// Which members this node may punch with and what it would try; called at every
    /// reconcile, before the desired state is computed from the plans.
    mutating func updateDirectPaths(topology: MeshTopology, now: Instant) -> [Effect] {
        let me = identity.wireGuardPublicKey
        var eligible: [WireGuardPublicKey: DirectPaths.Eligibility] = [:]
        var ineligible: [WireGuardPublicKey: String] = [:]
        let sessions = topology.routing(for: me).sessions
        paths.sessions = Set(sessions.keys)
        paths.withoutSession = topology.members.keys.filter { $0 != me && sessions[$0] == nil }.count
        if punches {
            let mine = topology.members[me]?.record.candidates ?? []
            for (key, member) in topology.members where key != me && !member.isPeer && sessions[key] == nil {
                let name = Self.pathName(member.record)
                let theirs = member.record.candidates
                guard topology.mayConnect(me, key) else {
                    ineligible[key] = "the access policy allows no flow between this node and \(name)"
                    continue
                }
                guard !mine.isEmpty else {
                    ineligible[key] = "this node has published no candidates yet"
                    continue
                }
                guard !theirs.isEmpty else {
                    ineligible[key] = "\(name) publishes no candidates (direct paths off, or an older version)"
                    continue
                }
                let candidates = PathCandidates.toTry(theirs: theirs, mine: mine)
                guard !candidates.isEmpty else {
                    ineligible[key] = "none of the candidates of \(name) can be reached from here"
                    continue
                }
                let ours = PathCandidates.natChangesPorts(mine, listenPort: options.listenPort)
                let others = PathCandidates.natChangesPorts(theirs, listenPort: member.record.wireGuardPort)
                let hint: String? =
                    ours && others
                    ? "both behind NATs that change ports"
                    : ours ? "this node's NAT changes ports" : others ? "the NAT of \(name) changes ports" : nil
                let sameLAN = PathCandidates.shareNAT(mine, theirs) && candidates.first?.host.isSiteLocal == true
                eligible[key] = DirectPaths.Eligibility(candidates: candidates, hint: hint, sameLAN: sameLAN)
            }
        }
        return pathActions(paths.direct.update(eligible: eligible, ineligible: ineligible, now: now), now: now)
    }

    // MARK: Inputs

    mutating func receivePath(
        _ message: PathMessage, from sender: NodeID, source: PeerAddress, now: Instant
    ) -> [Effect] {
        let key = WireGuardPublicKey(nodeID: sender)
        let wall = Self.wallSeconds(lastWallMillis)
        switch message {
        case .punch(let attempt, let handshook):
            return pathActions(
                paths.direct.receivePunch(from: key, attempt: attempt, handshook: handshook, now: now, wall: wall),
                now: now)
        case .probe(let nonce):
            // Over the overlay only: an answer by any other way would say a broken tunnel works.
            guard let overlay = overlayAddress(of: sender) else { return [] }
            return perform(gossip.sendPath(.probeReply(nonce: nonce), to: sender, at: overlay), now: now)
        case .probeReply(let nonce):
            paths.direct.probeAnswered(from: key, nonce: nonce, now: now)
            guard let ping = paths.pings[nonce], ping.key == key else { return [] }
            paths.pings[nonce] = nil
            return [.pingAnswered(nonce: nonce, rtt: now.since(ping.at))]
        case .whereAmI(let nonce):
            return answerWhereAmI(sender, nonce: nonce, source: source, now: now)
        case .relay(let member, let frame):
            return relay(frame, from: sender, to: member, now: now)
        case .youAre(let nonce, let endpoint):
            guard let asked = paths.asked, asked.to == sender, asked.nonce == nonce else {
                return [.metric(.rejected("unasked-reflexive"))]
            }
            paths.asked = nil
            paths.askDue = now + (paths.quickAsks > 0 ? Self.askRetry : Self.askInterval)
            if paths.quickAsks > 0 { paths.quickAsks -= 1 }
            guard paths.reflexive[sender] != endpoint else { return [] }
            let before = ownCandidates
            // One peer is asked (the one this node attaches to): its answer replaces the last.
            paths.reflexive = [sender: endpoint]
            guard ownCandidates != before else { return [] }
            return [.log(.info, "\(gossip.describe(sender)) sees this node's WireGuard at \(endpoint); publishing it")]
                + publishOwnRecord(now: now, failure: "cannot publish this node's path candidates")
        }
    }

    /// A member this node keeps a session with asks where its packets come from: the device
    /// knows (the endpoint WireGuard learnt from them). Read it first when it was not read lately.
    private mutating func answerWhereAmI(
        _ sender: NodeID, nonce: UInt64, source: PeerAddress, now: Instant
    ) -> [Effect] {
        guard let key = WireGuardKey(bytes: sender.bytes),
            paths.sessions.contains(WireGuardPublicKey(nodeID: sender))
        else { return [.metric(.rejected("where-am-i-without-session"))] }
        // The device is read for the answer (the endpoint may have moved a moment ago), at most
        // every 200 ms however many ask; in between, the last reading answers.
        if let last = paths.lastObservation, now.since(last) < .milliseconds(200),
            let endpoint = kernelPeers[key]?.endpoint.flatMap(Endpoint.init)
        {
            return perform(gossip.sendPath(.youAre(nonce: nonce, endpoint: endpoint), to: sender, at: source), now: now)
        }
        guard paths.askers.count < Self.maxPathWaiters || paths.askers[sender] != nil else { return [] }
        let first = paths.askers.isEmpty
        paths.askers[sender] = (nonce, source)
        return first ? [.observeKernel] : []
    }

    /// A member asks this node to pass a frame on to a member it keeps a session with (its
    /// client, typically): the frame goes out as it came, one datagram for one, at most
    /// `relaysPerSecond` a second per sender, so nobody gains anything by using a relay to
    /// send what it could send itself.
    private mutating func relay(_ frame: [UInt8], from sender: NodeID, to member: NodeID, now: Instant) -> [Effect] {
        let me = identity.wireGuardPublicKey
        guard member != identity.nodeID, member != sender, engine.store.isPresent(member),
            paths.sessions.contains(WireGuardPublicKey(nodeID: member)),
            let address = gossip.address(of: member)
        else { return [.metric(.rejected("relay-refused"))] }
        var window = paths.relayed[sender] ?? (now, 0)
        if now.since(window.second) >= .seconds(1) { window = (now, 0) }
        guard window.count < Self.relaysPerSecond else { return [.metric(.rejected("relay-over-rate"))] }
        window.count += 1
        if paths.relayed[sender] == nil, paths.relayed.count >= Self.maxPathWaiters {
            paths.relayed = paths.relayed.filter { now.since($0.value.second) < .seconds(1) }
            guard paths.relayed.count < Self.maxPathWaiters else { return [.metric(.rejected("relay-over-rate"))] }
        }
        paths.relayed[sender] = window
        return [.send(frame, to: address), .metric(.frame("out", bytes: frame.count, mesh: mesh))]
    }

    /// The device was read: answer who asked, then the pairs.
    mutating func pathsObserved(now: Instant) -> [Effect] {
        paths.lastObservation = now
        var effects: [Effect] = []
        for (asker, question) in paths.askers.sorted(by: { $0.key < $1.key }) {
            guard let key = WireGuardKey(bytes: asker.bytes),
                let endpoint = kernelPeers[key]?.endpoint.flatMap(Endpoint.init)
            else { continue }
            effects += perform(
                gossip.sendPath(.youAre(nonce: question.nonce, endpoint: endpoint), to: asker, at: question.source),
                now: now)
        }
        paths.askers.removeAll()
        var observations: [WireGuardPublicKey: DirectPaths.Observation] = [:]
        for (key, peer) in kernelPeers {
            guard let publicKey = WireGuardPublicKey(bytes: key.bytes) else { continue }
            observations[publicKey] = DirectPaths.Observation(
                lastHandshake: peer.lastHandshake, endpoint: peer.endpoint, receivedBytes: peer.receivedBytes,
                sentBytes: peer.sentBytes)
        }
        return effects
            + pathActions(
                paths.direct.observed(observations, now: now, wall: Self.wallSeconds(lastWallMillis)), now: now)
    }

    /// The timers of direct paths: asking where this node is seen from, punching, probes,
    /// reading the device.
    mutating func pathsTick(now: Instant) -> [Effect] {
        var effects: [Effect] = []
        if punches, let gateway = topology.gateway(of: identity.wireGuardPublicKey),
            gateway != identity.wireGuardPublicKey, paths.askDue.map({ now >= $0 }) ?? true
        {
            paths.counter &+= 1
            let nonce = paths.counter
            paths.asked = (gateway.nodeID, nonce, now)
            paths.askDue = now + (paths.reflexive[gateway.nodeID] == nil ? Self.askRetry : Self.askInterval)
            effects += perform(gossip.sendPath(.whereAmI(nonce: nonce), to: gateway.nodeID), now: now)
        }
        effects += pathActions(paths.direct.tick(now: now, wall: Self.wallSeconds(lastWallMillis)), now: now)
        if paths.direct.wantsObservation(since: paths.lastObservation, now: now) {
            paths.lastObservation = now
            effects.append(.observeKernel)
        }
        paths.pings = paths.pings.filter { now.since($0.value.at) < .seconds(10) }
        let direct = paths.direct.directCount
        let gauges = (
            direct: direct, punching: paths.direct.punchingCount, relayed: max(0, paths.withoutSession - direct)
        )
        if paths.exported.map({ $0 != gauges }) ?? true {
            paths.exported = gauges
            effects.append(.metric(.set("smeg_direct_paths", Double(gauges.direct), labels: labels)))
            effects.append(.metric(.set("smeg_punching_paths", Double(gauges.punching), labels: labels)))
            effects.append(.metric(.set("smeg_relayed_paths", Double(gauges.relayed), labels: labels)))
        }
        return effects
    }

    /// The local network changed: direct paths go back to their relays until proven again, and
    /// this node asks at once where it is seen from now.
    mutating func pathsNetworkChanged(now: Instant) -> [Effect] {
        paths.askDue = now + .milliseconds(500)
        paths.quickAsks = 3
        return pathActions(paths.direct.linkChanged(now: now), now: now)
    }

    /// Sends a probe to `key` over the overlay; its answer comes back as `pingAnswered` with
    /// the nonce returned here. Nil when no probe could go out (no record of the member, so no
    /// overlay address): a probe sent any other way would not test the tunnel.
    public mutating func ping(_ key: WireGuardPublicKey, now: Instant) -> (nonce: UInt64, effects: [Effect])? {
        guard let overlay = overlayAddress(of: key.nodeID) else { return nil }
        paths.counter &+= 1
        // Pings' nonces have the top bit set, the pairs' probes count from 1: never the same.
        let nonce = paths.counter | (1 << 63)
        let sent = gossip.sendPath(.probe(nonce: nonce), to: key.nodeID, at: overlay)
        guard sent.contains(where: { if case .send = $0 { true } else { false } }) else { return nil }
        if paths.pings.count >= Self.maxPathWaiters, let oldest = paths.pings.min(by: { $0.value.at < $1.value.at }) {
            paths.pings[oldest.key] = nil
        }
        paths.pings[nonce] = (key, now)
        return (nonce, perform(sent, now: now))
    }

    // MARK: Acting

    private mutating func pathActions(_ actions: [DirectPaths.Action], now: Instant) -> [Effect] {
        var effects: [Effect] = []
        var reapply = false
        var restart: [(WireGuardKey, Double)] = []
        for action in actions {
            switch action {
            case .sendPunch(let key, let attempt, let handshook):
                // Through the other's peer, which reaches it whatever either WireGuard routes.
                let message = PathMessage.punch(attempt: attempt, handshook: handshook)
                if let gateway = topology.gateway(of: key), gateway != key, gateway != identity.wireGuardPublicKey {
                    effects += perform(gossip.sendPath(message, to: key.nodeID, via: gateway.nodeID), now: now)
                } else {
                    effects += perform(gossip.sendPath(message, to: key.nodeID), now: now)
                }
            case .sendProbe(let key, let nonce):
                guard let overlay = overlayAddress(of: key.nodeID) else { continue }
                effects += perform(gossip.sendPath(.probe(nonce: nonce), to: key.nodeID, at: overlay), now: now)
            case .tryCandidate(let key, let since):
                reapply = true
                if let device = WireGuardKey(bytes: key.bytes) { restart.append((device, since)) }
            case .retryCandidate(let key, let since):
                if let device = WireGuardKey(bytes: key.bytes) { restart.append((device, since)) }
            case .changed:
                reapply = true
            case .log(let level, let text):
                effects.append(.log(level, text))
            }
        }
        if reapply { effects += applyNow(now: now) }
        effects += restart.map { .renewHandshake($0.0, after: $0.1) }
        return effects
    }

    /// The desired state with the pairs' current plans, applied now rather than after the
    /// debounce: a punching step lasts a second.
    private mutating func applyNow(now: Instant) -> [Effect] {
        reconcile(now: now, updatingPaths: false)
    }

    /// A member's overlay address and gossip port: what a probe is sent to, so that it takes
    /// the WireGuard path this node has for the member.
    func overlayAddress(of member: NodeID) -> PeerAddress? {
        guard let record = records[member] else { return nil }
        return PeerAddress(ip: .v6(record.address), port: record.gossipPort)
    }

    static func pathName(_ record: NodeRecord) -> String {
        record.alias.isEmpty ? String(record.wireGuardKey.base64.prefix(8)) : record.alias
    }

    // MARK: Views

    /// How this node reaches `key` now.
    public func pathView(of key: WireGuardPublicKey, now: Instant) -> PathView {
        let me = identity.wireGuardPublicKey
        guard key != me else { return PathView(kind: "self") }
        guard topology.mayConnect(me, key) else {
            return PathView(kind: "denied", reason: "the access policy allows no flow between them, either way")
        }
        let device = WireGuardKey(bytes: key.bytes)
        let endpoint = device.flatMap { kernelPeers[$0]?.endpoint }.map(\.description)
        let since = paths.direct.since(of: key).map { now.since($0).seconds }
        if paths.sessions.contains(key) {
            return PathView(kind: "direct", endpoint: endpoint)
        }
        if paths.direct.phase(of: key) == .direct {
            return PathView(kind: "direct", endpoint: endpoint, sinceSeconds: since)
        }
        let short = { (key: WireGuardPublicKey) in "\(key.nodeID)" }
        var via: [String] = []
        if let mine = topology.gateway(of: me), mine != me { via.append(short(mine)) }
        if let theirs = topology.gateway(of: key), theirs != key, !via.contains(short(theirs)) {
            via.append(short(theirs))
        }
        let punching = paths.direct.phase(of: key) != nil
        return PathView(
            kind: punching ? "punching" : "relayed", via: via, reason: punching ? nil : paths.direct.reason(of: key),
            sinceSeconds: since)
    }

    /// How many members this node reaches directly, is punching to, and reaches through relays
    /// (this node and the members the access policy keeps apart from it left out): what
    /// `pathView` says of each, counted without building the views.
    public func pathCounts() -> PathCounts {
        var counts = PathCounts()
        let me = identity.wireGuardPublicKey
        for member in engine.members {
            let key = WireGuardPublicKey(nodeID: member.owner)
            guard key != me, records[member.owner] != nil, topology.mayConnect(me, key) else { continue }
            if paths.sessions.contains(key) || paths.direct.phase(of: key) == .direct {
                counts.direct += 1
            } else if paths.direct.phase(of: key) != nil {
                counts.punching += 1
            } else {
                counts.relayed += 1
            }
        }
        return counts
    }
}
