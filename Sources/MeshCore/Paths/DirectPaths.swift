import GossipCRDT

/// The direct WireGuard sessions this node keeps, or is punching, with members it would
/// otherwise reach through relays: one small state machine per pair, with no clock or socket
/// of its own (docs/routing.md, "Direct paths").
///
/// A pair goes *asking* (this node sent a punch message, and waits for the other's), *trying*
/// (both consented: the other's candidates are tried in turn, a second each, by pointing a
/// WireGuard peer with no AllowedIPs at one and starting a handshake at once and again half a
/// second later, while the other end does the same), and *direct* once a handshake completed on both ends (each says so in its punch
/// messages): only then do the pair's overlay addresses move to the direct session. It falls
/// back to the relay when the direct session stops answering, and every failure doubles the
/// wait before the next attempt.
///
/// No reflection: a node sends handshakes to a member's candidates only while it holds a punch
/// from that member younger than `consentLifetime`, at most `PathCandidate.maxTried` of them
/// once each per attempt, attempts at most `maxPairs` at once and one per pair per backoff.
public struct DirectPaths: Sendable {
    public enum Phase: String, Sendable, Equatable {
        case asking, trying, direct
    }

    /// Why a pair relays, or what it may try, as the node's core computed it from the records.
    public struct Eligibility: Equatable, Sendable {
        /// The other's candidates to try, in order (`PathCandidates.toTry`).
        public var candidates: [Endpoint]
        /// Said when punching fails ("both behind NATs that change ports").
        public var hint: String?
        /// True when the candidates are on this node's own LAN: no NAT needs a keepalive.
        public var sameLAN: Bool

        public init(candidates: [Endpoint], hint: String? = nil, sameLAN: Bool = false) {
            self.candidates = candidates
            self.hint = hint
            self.sameLAN = sameLAN
        }
    }

    /// What to configure on the device for a pair.
    public enum Plan: Equatable, Sendable {
        /// A peer with no AllowedIPs pointed at this candidate, keepalive on so WireGuard
        /// handshakes at once; nil once a handshake completed: the endpoint WireGuard learnt
        /// from it (a symmetric NAT's port for this pair, not the candidate's) is kept.
        case punching(WireGuardEndpoint?)
        /// The pair's addresses on its own session; WireGuard keeps the endpoint it learnt.
        case direct(keepalive: UInt16)
    }

    public enum Action: Equatable, Sendable {
        case sendPunch(WireGuardPublicKey, attempt: UInt32, handshook: Bool)
        case sendProbe(WireGuardPublicKey, nonce: UInt64)
        /// The plan of this pair changed to a new candidate: apply it and start a handshake now,
        /// unless one completed after `since` (wall seconds; a session from before this attempt,
        /// a direct path that just failed, does not count and is started over).
        case tryCandidate(WireGuardPublicKey, since: Double)
        /// Start the handshake with the current candidate again: the first may have reached
        /// the other end before it had added this node.
        case retryCandidate(WireGuardPublicKey, since: Double)
        /// A pair moved to or from its direct session: apply the new state.
        case changed
        case log(LogLevel, String)
    }

    /// What the device reports of one direct or punching peer.
    public struct Observation: Equatable, Sendable {
        public var lastHandshake: Double?
        public var endpoint: WireGuardEndpoint?
        public var receivedBytes: UInt64
        public var sentBytes: UInt64

        public init(lastHandshake: Double?, endpoint: WireGuardEndpoint?, receivedBytes: UInt64, sentBytes: UInt64) {
            self.lastHandshake = lastHandshake
            self.endpoint = endpoint
            self.receivedBytes = receivedBytes
            self.sentBytes = sentBytes
        }
    }

    struct Pair: Sendable {
        var eligibility: Eligibility
        var phase: Phase?
        var attempt: UInt32 = 0
        var attemptStarted: Instant?
        /// The wall clock when trying began: a handshake after it counts for this attempt.
        var attemptWall: Double = 0
        var index = 0
        var stepDue: Instant?
        /// Whether the current candidate's second handshake went out, and when the last did.
        var retried = false
        var initiated: Instant?
        /// Handshakes started towards the current candidate in this attempt.
        var initiations = 0
        /// When this pair last punched again at once after the other end lost the path.
        var quickRestart: Instant?
        var lastSent: Instant?
        var theirs: (attempt: UInt32, handshook: Bool, at: Instant)?
        /// The other's attempt when the pair went direct: a newer one means it fell back.
        var theirsAtDirect: UInt32?
        var handshook = false
        var failures = 0
        var nextAttempt: Instant
        var reason: String?
        var since: Instant?
        var endpoint: WireGuardEndpoint?
        var received: UInt64 = 0
        var sent: UInt64 = 0
        var sentAtLastReceive: UInt64 = 0
        var receivedAt: Instant?
        var probe: (nonce: UInt64, at: Instant, count: Int)?
    }

    static let maxPairs = 16
    static let consentLifetime: Duration = .seconds(10)
    static let step: Duration = .seconds(1)
    static let askFor: Duration = .seconds(5)
    static let firstBackoff: Duration = .seconds(10)
    static let maxBackoff: Duration = .seconds(300)
    static let minimumStartGap: Duration = .milliseconds(250)
    static let afterLinkChange: Duration = .seconds(1)
    /// Handshakes started towards one candidate per attempt at most: the first, one half a
    /// second later, and one when the other end's punch says it began only then.
    static let initiationsPerCandidate = 3
    static let quickRestartInterval: Duration = .seconds(60)
    /// A direct session that has sent more than this since it last received anything, for
    /// `quietBeforeProbe`, is probed (a keepalive is 32 bytes).
    static let unansweredBytes: UInt64 = 64
    static let quietBeforeProbe: Duration = .seconds(2)
    static let probes = 3
    static let probeInterval: Duration = .milliseconds(500)
    /// Keepalive on a direct session that crosses a NAT or firewall: their UDP mappings last
    /// 30 s or more.
    public static let natKeepalive: UInt16 = 25

    var pairs: [WireGuardPublicKey: Pair] = [:]
    /// Why each member that cannot punch relays (no candidates, a peer, off).
    public internal(set) var ineligible: [WireGuardPublicKey: String] = [:]
    var lastStart: Instant?
    var nonce: UInt64 = 0

    public init() {}

    // MARK: Views

    public func phase(of key: WireGuardPublicKey) -> Phase? { pairs[key]?.phase }
    public func reason(of key: WireGuardPublicKey) -> String? { pairs[key]?.reason ?? ineligible[key] }
    public func endpoint(of key: WireGuardPublicKey) -> WireGuardEndpoint? { pairs[key]?.endpoint }
    public func since(of key: WireGuardPublicKey) -> Instant? { pairs[key]?.since }

    /// The device state each pair needs now.
    public var plans: [WireGuardPublicKey: Plan] {
        var plans: [WireGuardPublicKey: Plan] = [:]
        for (key, pair) in pairs {
            switch pair.phase {
            case .trying?:
                guard pair.index < pair.eligibility.candidates.count,
                    let endpoint = WireGuardEndpoint(pair.eligibility.candidates[pair.index])
                else { continue }
                plans[key] = .punching(pair.handshook ? nil : endpoint)
            case .direct?:
                plans[key] = .direct(keepalive: pair.eligibility.sameLAN ? 0 : Self.natKeepalive)
            case .asking?, nil:
                continue
            }
        }
        return plans
    }

    /// Whether the device should be read now: every half second while trying, every second
    /// while direct.
    public func wantsObservation(since last: Instant?, now: Instant) -> Bool {
        let trying = pairs.values.contains { $0.phase == .trying }
        let direct = pairs.values.contains { $0.phase == .direct }
        guard trying || direct else { return false }
        guard let last else { return true }
        return now.since(last) >= (trying ? .milliseconds(500) : .seconds(1))
    }

    public var directCount: Int { pairs.values.filter { $0.phase == .direct }.count }
    public var punchingCount: Int { pairs.values.filter { $0.phase == .asking || $0.phase == .trying }.count }

    // MARK: Inputs

    /// The pairs that may punch now and what they may try; members missing from `eligible` relay
    /// for the reason in `ineligible`. A pair that lost its eligibility falls back at once.
    public mutating func update(
        eligible: [WireGuardPublicKey: Eligibility], ineligible: [WireGuardPublicKey: String], now: Instant
    ) -> [Action] {
        self.ineligible = ineligible
        var actions: [Action] = []
        for key in pairs.keys where eligible[key] == nil {
            if pairs[key]?.phase == .direct || pairs[key]?.phase == .trying { actions.append(.changed) }
            pairs[key] = nil
        }
        for (key, eligibility) in eligible {
            guard var pair = pairs[key] else {
                pairs[key] = Pair(eligibility: eligibility, nextAttempt: now)
                continue
            }
            if pair.eligibility.candidates != eligibility.candidates, pair.phase != .direct {
                // New candidates (the other moved): the wait for them starts over.
                pair.failures = 0
                pair.nextAttempt = now
                if pair.phase == .trying {
                    pair.phase = nil
                    actions.append(.changed)
                }
            }
            pair.eligibility = eligibility
            pairs[key] = pair
        }
        return actions.contains(.changed) ? [.changed] : []
    }

    /// A punch message from `key`: its consent, and whether its side saw a handshake.
    public mutating func receivePunch(
        from key: WireGuardPublicKey, attempt: UInt32, handshook: Bool, now: Instant, wall: Double
    ) -> [Action] {
        guard var pair = pairs[key] else { return [] }
        let previous = pair.theirs
        pair.theirs = (attempt, handshook, now)
        pairs[key] = pair
        var actions: [Action] = []
        switch pair.phase {
        case nil:
            // Their attempt pulls ours forward by up to half our wait (at least 5 s), so the two
            // ends meet without either being able to make the other punch more often than about
            // twice per backoff.
            let early = max(Self.backoff(failures: pair.failures) / 2, Self.firstBackoff / 2)
            guard now + early >= pair.nextAttempt, activeCount < Self.maxPairs else { return [] }
            actions += start(key, now: now)
            actions += consented(key, now: now, wall: wall)
        case .asking?:
            actions += consented(key, now: now, wall: wall)
        case .trying?:
            if handshook, pairs[key]!.handshook {
                actions += goDirect(key, now: now)
            } else if !pairs[key]!.handshook, pair.initiations < Self.initiationsPerCandidate,
                pair.initiated.map({ now.since($0) >= .milliseconds(400) }) ?? true
            {
                // The other end may have begun trying only now, after this end's handshakes
                // reached a device that did not know it yet: one more.
                pairs[key]!.initiated = now
                pairs[key]!.initiations += 1
                actions.append(.retryCandidate(key, since: pair.attemptWall))
            }
        case .direct?:
            // A punch that says it has no handshake, sent after this end went direct (not one
            // from before, late): the other end fell back, or starts over.
            if !handshook, let since = pair.since, now.since(since) >= .seconds(1) || attempt != pair.theirsAtDirect {
                // Punching again at once (the other end moved and wants the path back) at most
                // once a minute per pair; else the backoff applies, so that a member cannot
                // make this node cycle through its candidates by completing and dropping paths.
                let quick = pair.quickRestart.map { now.since($0) >= Self.quickRestartInterval } ?? true
                actions += fallBack(key, "\(Self.name(key)) lost the direct path", now: now, failed: !quick)
                if quick {
                    pairs[key]!.quickRestart = now
                    actions += start(key, now: now)
                    actions += consented(key, now: now, wall: wall)
                }
            }
        }
        // Answer at once, so the other end knows of our consent (at most every half second).
        if let updated = pairs[key], updated.phase != nil,
            updated.lastSent.map({ now.since($0) >= .milliseconds(500) }) ?? true
        {
            actions.append(sendPunch(key, now: now))
        }
        return actions
    }

    /// What the device reports of the pairs' peers.
    public mutating func observed(_ peers: [WireGuardPublicKey: Observation], now: Instant, wall: Double) -> [Action] {
        var actions: [Action] = []
        for key in pairs.keys.sorted() {
            guard let pair = pairs[key], let peer = peers[key] else { continue }
            switch pair.phase {
            case .trying?:
                if !pair.handshook, MeshNode.handshake(peer.lastHandshake, isAfter: pair.attemptWall) {
                    pairs[key]!.handshook = true
                    pairs[key]!.endpoint = peer.endpoint
                    actions.append(sendPunch(key, now: now))
                    if let theirs = pair.theirs, theirs.handshook, theirs.attempt == pair.theirs?.attempt,
                        now.since(theirs.at) < Self.consentLifetime, theirs.at >= (pair.attemptStarted ?? now)
                    {
                        actions += goDirect(key, now: now)
                    }
                }
            case .direct?:
                actions += checkLiveness(key, peer, now: now, wall: wall)
            case .asking?, nil:
                continue
            }
        }
        return actions
    }

    /// A probe's answer came back: the direct path works.
    public mutating func probeAnswered(from key: WireGuardPublicKey, nonce: UInt64, now: Instant) {
        guard let probe = pairs[key]?.probe, probe.nonce == nonce else { return }
        pairs[key]!.probe = nil
        pairs[key]!.receivedAt = now
        pairs[key]!.sentAtLastReceive = pairs[key]!.sent
    }

    /// The local network changed: every direct path goes back to its relay until it is proven
    /// again, and punching starts over without waiting.
    public mutating func linkChanged(now: Instant) -> [Action] {
        var actions: [Action] = []
        for key in pairs.keys.sorted() {
            if pairs[key]!.phase == .direct || pairs[key]!.phase == .trying {
                actions += fallBack(key, "the local network changed", now: now, failed: false)
            }
            pairs[key]!.phase = nil
            pairs[key]!.failures = 0
            // A moment for the peer to say where this node is seen from now.
            pairs[key]!.nextAttempt = now + Self.afterLinkChange
        }
        return actions
    }

    /// Timers: new attempts, punch messages again, the next candidate, probes.
    public mutating func tick(now: Instant, wall: Double) -> [Action] {
        var actions: [Action] = []
        for key in pairs.keys.sorted() {
            let pair = pairs[key]!
            switch pair.phase {
            case nil:
                guard now >= pair.nextAttempt, activeCount < Self.maxPairs,
                    lastStart.map({ now.since($0) >= Self.minimumStartGap }) ?? true
                else { continue }
                actions += start(key, now: now)
                if let theirs = pair.theirs, now.since(theirs.at) < Self.consentLifetime {
                    actions += consented(key, now: now, wall: wall)
                }
            case .asking?:
                if let started = pair.attemptStarted, now.since(started) >= Self.askFor {
                    actions += fallBack(
                        key, "\(Self.name(key)) did not answer the punch request", now: now, failed: true)
                } else if pair.lastSent.map({ now.since($0) >= Self.step }) ?? true {
                    actions.append(sendPunch(key, now: now))
                }
            case .trying?:
                if pair.lastSent.map({ now.since($0) >= Self.step }) ?? true {
                    actions.append(sendPunch(key, now: now))
                }
                guard let due = pair.stepDue else { continue }
                if !pair.retried, !pair.handshook, pair.initiations < Self.initiationsPerCandidate,
                    now + Self.step / 2 >= due, now < due
                {
                    pairs[key]!.retried = true
                    pairs[key]!.initiated = now
                    pairs[key]!.initiations += 1
                    actions.append(.retryCandidate(key, since: pair.attemptWall))
                }
                guard now >= due else { continue }
                if pair.index + 1 < pair.eligibility.candidates.count, !pair.handshook {
                    pairs[key]!.index += 1
                    pairs[key]!.stepDue = now + Self.step
                    pairs[key]!.retried = false
                    pairs[key]!.initiated = now
                    pairs[key]!.initiations = 1
                    actions.append(.tryCandidate(key, since: pair.attemptWall))
                } else if now >= due + Self.step * 2 {
                    let tried = pair.eligibility.candidates.count
                    var reason =
                        pair.handshook
                        ? "\(Self.name(key)) saw no handshake on the direct session"
                        : "no handshake on \(tried == 1 ? "the candidate" : "any of \(tried) candidates")"
                    if let hint = pair.eligibility.hint { reason += " (\(hint))" }
                    actions += fallBack(key, reason, now: now, failed: true)
                }
            case .direct?:
                if let probe = pair.probe, now.since(probe.at) >= Self.probeInterval {
                    if probe.count >= Self.probes {
                        actions += fallBack(key, "the direct path stopped answering", now: now, failed: true)
                    } else {
                        actions += sendProbe(key, now: now, count: probe.count + 1)
                    }
                }
            }
        }
        return actions
    }

    // MARK: Transitions

    private var activeCount: Int { pairs.values.filter { $0.phase != nil }.count }

    private mutating func start(_ key: WireGuardPublicKey, now: Instant) -> [Action] {
        guard !pairs[key]!.eligibility.candidates.isEmpty else { return [] }
        lastStart = now
        pairs[key]!.phase = .asking
        pairs[key]!.attempt &+= 1
        pairs[key]!.attemptStarted = now
        pairs[key]!.handshook = false
        pairs[key]!.endpoint = nil
        pairs[key]!.reason = nil
        return [sendPunch(key, now: now)]
    }

    /// Both ends asked: try the first candidate.
    private mutating func consented(_ key: WireGuardPublicKey, now: Instant, wall: Double) -> [Action] {
        guard pairs[key]?.phase == .asking else { return [] }
        pairs[key]!.phase = .trying
        pairs[key]!.index = 0
        pairs[key]!.retried = false
        pairs[key]!.stepDue = now + Self.step
        // Half a second early: the wall clock has millisecond steps, and the other end's first
        // handshake can complete within the millisecond this end consents in. Older sessions
        // cannot count: the punching peer is new (it is removed whenever an attempt ends).
        pairs[key]!.attemptWall = wall - 0.5
        pairs[key]!.initiated = now
        pairs[key]!.initiations = 1
        return [.tryCandidate(key, since: wall - 0.5)]
    }

    private mutating func goDirect(_ key: WireGuardPublicKey, now: Instant) -> [Action] {
        guard pairs[key]?.phase == .trying else { return [] }
        pairs[key]!.phase = .direct
        pairs[key]!.since = now
        pairs[key]!.failures = 0
        pairs[key]!.theirsAtDirect = pairs[key]!.theirs?.attempt
        pairs[key]!.receivedAt = now
        pairs[key]!.probe = nil
        let endpoint = pairs[key]!.endpoint.map { " at \($0)" } ?? ""
        return [.changed, .log(.info, "direct path to \(Self.name(key))\(endpoint)")]
    }

    private mutating func fallBack(
        _ key: WireGuardPublicKey, _ reason: String, now: Instant, failed: Bool
    ) -> [Action] {
        guard var pair = pairs[key] else { return [] }
        let wasUsed = pair.phase == .direct || pair.phase == .trying
        let wasDirect = pair.phase == .direct
        pair.phase = nil
        pair.reason = reason
        pair.since = now
        pair.probe = nil
        pair.endpoint = nil
        if failed { pair.failures += 1 }
        pair.nextAttempt = now + Self.backoff(failures: pair.failures)
        pairs[key] = pair
        var actions: [Action] = wasUsed ? [.changed] : []
        // Tell the other end at once that this attempt is over, so it falls back too.
        if wasDirect { actions.append(sendPunch(key, now: now)) }
        actions.append(.log(wasDirect ? .notice : .debug, "relaying to \(Self.name(key)): \(reason)"))
        return actions
    }

    private mutating func checkLiveness(
        _ key: WireGuardPublicKey, _ peer: Observation, now: Instant, wall: Double
    ) -> [Action] {
        var pair = pairs[key]!
        if peer.receivedBytes != pair.received {
            pair.receivedAt = now
            pair.sentAtLastReceive = peer.sentBytes
        }
        pair.received = peer.receivedBytes
        pair.sent = peer.sentBytes
        if let endpoint = peer.endpoint { pair.endpoint = endpoint }
        pairs[key] = pair
        // An old handshake alone says nothing: an idle session is renewed when traffic comes
        // (and one with a keepalive every two minutes); what matters is an answer to what is sent.
        let quiet = now.since(pair.receivedAt ?? now)
        let unanswered =
            peer.sentBytes >= pair.sentAtLastReceive && peer.sentBytes - pair.sentAtLastReceive > Self.unansweredBytes
        guard pair.probe == nil, quiet >= Self.quietBeforeProbe, unanswered else { return [] }
        return sendProbe(key, now: now, count: 1)
    }

    private mutating func sendProbe(_ key: WireGuardPublicKey, now: Instant, count: Int) -> [Action] {
        nonce &+= 1
        pairs[key]!.probe = (nonce, now, count)
        return [.sendProbe(key, nonce: nonce)]
    }

    private mutating func sendPunch(_ key: WireGuardPublicKey, now: Instant) -> Action {
        pairs[key]!.lastSent = now
        let pair = pairs[key]!
        return .sendPunch(key, attempt: pair.attempt, handshook: pair.handshook && pair.phase != nil)
    }

    static func backoff(failures: Int) -> Duration {
        guard failures > 0 else { return .zero }
        let seconds = min(Self.maxBackoff.seconds, Self.firstBackoff.seconds * Double(1 << min(failures - 1, 10)))
        return .milliseconds(Int64(seconds * 1000))
    }

    static func name(_ key: WireGuardPublicKey) -> String { String(key.base64.prefix(8)) }
}

extension WireGuardEndpoint {
    /// The device's form of an address endpoint; nil for a name.
    public init?(_ endpoint: Endpoint) {
        switch endpoint.host {
        case .ipv4(let address): self.init(address: address.bytes, port: endpoint.port)
        case .ipv6(let address): self.init(address: address.bytes, port: endpoint.port)
        case .name: return nil
        }
    }
}

extension Endpoint {
    /// The record's form of a device endpoint (an IPv4-mapped IPv6 address becomes IPv4).
    public init?(_ endpoint: WireGuardEndpoint) {
        if endpoint.address.count == 4, let v4 = IPv4Address(bytes: endpoint.address) {
            self.init(host: .ipv4(v4), port: endpoint.port)
        } else if let v6 = IPv6Address(bytes: endpoint.address) {
            if v6.isIPv4Mapped {
                self.init(host: .ipv4(IPv4Address(UInt32(truncatingIfNeeded: v6.low))), port: endpoint.port)
            } else {
                self.init(host: .ipv6(v6), port: endpoint.port)
            }
        } else {
            return nil
        }
    }
}
