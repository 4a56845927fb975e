import Testing

@testable import GossipCRDT

/// `GossipEngine.resume`: a node back from being away (stopped, asleep) or on another network
/// catches up at once.
@Suite struct ResumeTests {
    /// Five members that know each other; member 3 follows member 1's epoch 1.
    func follower() -> GossipEngine {
        var store = MemberStore()
        for member in UInt64(1)...5 { store.add(record(member, 1)) }
        var node = GossipEngine(
            me: id(3), config: GossipConfig(), validator: AcceptAll(), signer: NoSignature(), rng: SplitMix64(seed: 3))
        node.restore(store)
        let heartbeat = Heartbeat(epoch: EpochStamp(leader: id(1), number: 1), stableSummary: node.store.summary.hash)
        _ = node.receive(.heartbeat(heartbeat), from: id(1), now: ms(0))
        return node
    }

    func digests(_ out: [Outgoing]) -> [Destination] {
        out.compactMap { if case .digest = $0.message { $0.to } else { nil } }
    }

    /// An idle member that agrees with its leader sends one digest per 30 s; resumed, it sends
    /// its leader a plain digest (answered with the current signed heartbeat) and a round to
    /// `fanout` others, and its next tick sends no second round.
    @Test func aResumedNodeAsksItsLeaderAndGossipsAtOnce() {
        var node = follower()
        _ = node.tick(now: ms(1))
        #expect(digests(node.tick(now: ms(300))).isEmpty, "idle: agrees with its leader")
        let out = digests(node.resume(now: ms(400)))
        #expect(out.first == .member(id(1)), "the leader first")
        #expect(Set(out).count == 4, "the leader and fanout others: \(out)")
        #expect(!out.contains(.member(id(3))))
        #expect(digests(node.tick(now: ms(450))).isEmpty, "the round went out with the resume")
    }

    /// Away for 20 s: the leader's silence was this node's own. It does not suspect the leader
    /// at once (it would follow another), but gives it one interval to answer.
    @Test func theTimeAwayIsNotTheLeadersSilence() {
        var node = follower()
        _ = node.resume(now: ms(20_000))
        _ = node.tick(now: ms(20_000))
        #expect(!node.liveness.suspects.contains(id(1)), "one interval to answer")
        _ = node.tick(now: ms(21_100))
        #expect(node.liveness.suspects.contains(id(1)), "then suspected, as usual")
    }

    /// A suspend that the monotonic clock did not count: the mesh opened epochs meanwhile, and
    /// the leader's heartbeat after it is beyond the bound unless the resume widens it.
    @Test func aSuspendTheClockDidNotSeeWidensTheEpochBound() {
        let late = Heartbeat(epoch: EpochStamp(leader: id(1), number: 61), stableSummary: 0)
        var unwidened = follower()
        _ = unwidened.resume(now: ms(100))
        _ = unwidened.receive(.heartbeat(late), from: id(1), now: ms(100))
        #expect(unwidened.epoch?.number == 1, "refused: 60 epochs in 0.1 s")
        var widened = follower()
        _ = widened.resume(now: ms(100), unseen: .seconds(60))
        _ = widened.receive(.heartbeat(late), from: id(1), now: ms(100))
        #expect(widened.epoch?.number == 61, "accepted: the machine slept 60 s")
    }
}
