import GossipCRDT
import Testing

@testable import MeshCore

/// The direct-path state machine on its own: whatever a member sends, this node sends
/// handshakes only with its consent and within the caps; two honest ends meet.
@Suite struct DirectPathsTests {
    static let other = WireGuardPublicKey(nodeID: NodeID(9, 9, 9, 9))
    static let candidates = [Endpoint("203.0.113.1:51820")!, Endpoint("[2001:db8::1]:51820")!]
    static let wallBase = 1_800_000_000.0

    static func wall(_ now: Instant) -> Double { wallBase + Double(now.nanoseconds) / 1e9 }

    /// Random inputs of every kind from a member that may be hostile: punches at any rate with
    /// any attempt number and flag, device readings that claim anything, eligibility that comes
    /// and goes, link changes. Every handshake this node starts follows a punch from that
    /// member younger than the consent lifetime; no candidate gets more than three per attempt;
    /// attempts begin no more often than the backoff allows.
    @Test(arguments: 0..<40)
    func handshakesOnlyWithFreshConsentAndWithinTheCaps(seed: UInt64) {
        var rng = IPAddressDifferentialTests.SplitMix(state: seed)
        var paths = DirectPaths()
        let eligible = [Self.other: DirectPaths.Eligibility(candidates: Self.candidates)]
        _ = paths.update(eligible: eligible, ineligible: [:], now: .zero)
        var now = Instant.zero
        var lastPunch: Instant?
        var perCandidate: [Int: Int] = [:]
        var attemptStarts: [Instant] = []
        for _ in 0..<3_000 {
            now = now + .milliseconds(Int64(rng.next() % 300))
            var actions: [DirectPaths.Action] = []
            switch rng.next() % 10 {
            case 0...3:
                lastPunch = now
                actions = paths.receivePunch(
                    from: Self.other, attempt: UInt32(truncatingIfNeeded: rng.next() % 4),
                    handshook: rng.next() % 3 == 0,
                    now: now, wall: Self.wall(now))
            case 4:
                let observation = DirectPaths.Observation(
                    lastHandshake: rng.next() % 2 == 0 ? nil : Self.wall(now) - Double(rng.next() % 5),
                    endpoint: nil, receivedBytes: rng.next() % 1000, sentBytes: rng.next() % 1000)
                actions = paths.observed([Self.other: observation], now: now, wall: Self.wall(now))
            case 5:
                if rng.next() % 20 == 0 { actions = paths.linkChanged(now: now) }
            case 6:
                if rng.next() % 30 == 0 {
                    actions = paths.update(
                        eligible: rng.next() % 2 == 0 ? [:] : eligible, ineligible: [:], now: now)
                }
            default:
                actions = paths.tick(now: now, wall: Self.wall(now))
            }
            for action in actions {
                switch action {
                case .tryCandidate(let key, _), .retryCandidate(let key, _):
                    #expect(key == Self.other)
                    let fresh = lastPunch.map { now.since($0) < DirectPaths.consentLifetime } ?? false
                    #expect(fresh, "a handshake without the member's consent (seed \(seed))")
                    let index = paths.pairs[key]?.index ?? -1
                    if case .tryCandidate = action, index == 0 {
                        perCandidate = [:]
                        attemptStarts.append(now)
                    }
                    perCandidate[index, default: 0] += 1
                    #expect(perCandidate[index]! <= DirectPaths.initiationsPerCandidate, "seed \(seed)")
                default:
                    break
                }
            }
        }
        // The backoff holds whatever the member does: attempts at least 5 s apart on average
        // once failures pile up (the early acceptance is half the backoff, at least 5 s).
        if attemptStarts.count > 2 {
            let span = attemptStarts.last!.since(attemptStarts.first!)
            #expect(span.seconds / Double(attemptStarts.count - 1) >= 3, "attempts \(attemptStarts.count) in \(span)")
        }
    }

    /// Two honest ends exchanging their punch messages, over a channel that loses a share of
    /// them, and a network on which a handshake completes when both ends try at once: they go
    /// direct, each only once it saw its own handshake and the other said it saw one.
    @Test(arguments: [0.0, 0.2, 0.5])
    func twoEndsMeetAndMoveOnlyOnceBothHandshook(loss: Double) {
        var rng = IPAddressDifferentialTests.SplitMix(state: UInt64(loss * 100))
        let keys = [WireGuardPublicKey(nodeID: NodeID(1, 1, 1, 1)), WireGuardPublicKey(nodeID: NodeID(2, 2, 2, 2))]
        var ends = [DirectPaths(), DirectPaths()]
        for side in 0..<2 {
            _ = ends[side].update(
                eligible: [keys[1 - side]: DirectPaths.Eligibility(candidates: Self.candidates)], ineligible: [:],
                now: .zero)
        }
        var handshake: Double?
        var now = Instant.zero
        var inFlight: [(at: Instant, to: Int, attempt: UInt32, handshook: Bool)] = []
        var directAt: Instant?
        while now < Instant.zero + .seconds(120), directAt == nil {
            now = now + .milliseconds(100)
            for side in 0..<2 {
                var actions = ends[side].tick(now: now, wall: Self.wall(now))
                let trying = ends.allSatisfy { $0.pairs.values.first?.phase == .trying }
                if trying, handshake == nil { handshake = Self.wall(now) }
                let observation = DirectPaths.Observation(
                    lastHandshake: trying || ends[side].pairs.values.first?.phase == .direct ? handshake : nil,
                    endpoint: nil, receivedBytes: 0, sentBytes: 0)
                actions += ends[side].observed([keys[1 - side]: observation], now: now, wall: Self.wall(now))
                for action in actions {
                    if case .sendPunch(_, let attempt, let handshook) = action,
                        Double(rng.next() % 1000) >= loss * 1000
                    {
                        inFlight.append((now + .milliseconds(30), 1 - side, attempt, handshook))
                    }
                }
            }
            let due = inFlight.filter { $0.at <= now }
            inFlight.removeAll { $0.at <= now }
            for message in due {
                let side = message.to
                let actions = ends[side].receivePunch(
                    from: keys[1 - side], attempt: message.attempt, handshook: message.handshook, now: now,
                    wall: Self.wall(now))
                for action in actions {
                    if case .sendPunch(_, let attempt, let handshook) = action {
                        inFlight.append((now + .milliseconds(30), 1 - side, attempt, handshook))
                    }
                }
            }
            for side in 0..<2
            where ends[side].plans[keys[1 - side]].map({ if case .direct = $0 { true } else { false } }) ?? false {
                let pair = ends[side].pairs[keys[1 - side]]!
                #expect(pair.handshook && pair.theirs?.handshook == true, "direct before both ends handshook")
            }
            if ends.allSatisfy({ $0.directCount == 1 }) { directAt = now }
        }
        #expect(directAt != nil, "never met at \(loss * 100) % loss")
        if loss == 0 {
            #expect(directAt.map { $0.since(.zero) <= .seconds(5) } ?? false, "\(String(describing: directAt))")
        }
    }

    @Test func backoffDoublesUpToFiveMinutes() {
        #expect(DirectPaths.backoff(failures: 0) == .zero)
        #expect(DirectPaths.backoff(failures: 1) == .seconds(10))
        #expect(DirectPaths.backoff(failures: 2) == .seconds(20))
        #expect(DirectPaths.backoff(failures: 6) == .seconds(300))
        #expect(DirectPaths.backoff(failures: 1_000) == .seconds(300))
    }

    /// A pair that stops being eligible (a relay appeared between them, the other left) ends
    /// its direct path at once; the plans never name a member that is not eligible.
    @Test func losingEligibilityEndsThePath() {
        var paths = DirectPaths()
        _ = paths.update(
            eligible: [Self.other: DirectPaths.Eligibility(candidates: Self.candidates)], ineligible: [:], now: .zero)
        let start = Instant.zero + .seconds(1)
        _ = paths.receivePunch(from: Self.other, attempt: 1, handshook: false, now: start, wall: Self.wall(start))
        #expect(paths.plans[Self.other] != nil)
        let actions = paths.update(eligible: [:], ineligible: [Self.other: "a peer now"], now: start + .seconds(1))
        #expect(actions == [.changed])
        #expect(paths.plans.isEmpty)
        #expect(paths.reason(of: Self.other) == "a peer now")
    }
}
