import Testing

@testable import GossipCRDT

@Suite struct EngineTests {
    /// Engines 1...n, each with its own record, all knowing each other.
    func converged(
        _ n: UInt64, config: GossipConfig = GossipConfig(), validator: some RecordValidator = AcceptAll()
    ) -> Mesh {
        var store = MemberStore()
        for member in 1...n { store.add(record(member, 1)) }
        var mesh = Mesh()
        for member in 1...n {
            var node = GossipEngine(
                me: id(member), config: config, validator: validator, signer: NoSignature(),
                rng: SplitMix64(seed: 1 &+ member))
            node.restore(store)
            mesh.engines[id(member)] = node
        }
        return mesh
    }

    @Test func agreeingNodesExchangeOneSmallMessage() {
        var mesh = converged(50)
        let out = mesh.engines[id(5)]!.tick(now: ms(0)).filter {
            if case .digest = $0.message { return true } else { return false }
        }
        #expect(out.count == 2, "a node that has not heard its leader's summary yet repairs with two peers")
        mesh.bytes = 0
        mesh.messages = 0
        mesh.deliver(Array(out.prefix(1)), from: id(5), now: ms(0))
        #expect(mesh.messages == 1)
        #expect(mesh.bytes < 150)
    }

    @Test func aNodeThatAgreesWithItsLeaderSendsOneIdleDigestPerInterval() {
        var node = converged(50).engines[id(5)]!
        let heartbeat = Heartbeat(epoch: EpochStamp(leader: id(1), number: 1), stableSummary: node.store.summary.hash)
        _ = node.receive(.heartbeat(heartbeat), from: id(1), now: ms(0))
        func digests(_ out: [Outgoing]) -> Int {
            out.filter { if case .digest = $0.message { true } else { false } }.count
        }
        #expect(digests(node.tick(now: ms(1))) == 1, "the backstop digest")
        var later = 0
        for step in 1...4 { later += digests(node.tick(now: ms(1 + 200 * UInt64(step)))) }
        #expect(later == 0, "nothing more while the heartbeat says we agree")
        var news = node
        _ = news.publish(record(5, 2), now: ms(900))
        #expect(digests(news.tick(now: ms(1001))) == 3, "news goes out at the full fanout")
    }

    @Test func aJoinerGetsEverythingFromItsBootstrapPeerAndIsSeenByIt() {
        var mesh = converged(40)
        var joiner = engine(100)
        joiner.publish(record(100, 1), now: ms(0))
        joiner.setBootstrapPeers(count: 1)
        let out = joiner.tick(now: ms(0))
        #expect(out.allSatisfy { $0.to == .bootstrap(0) })
        mesh.engines[id(100)] = joiner
        let redirected = out.map { Outgoing(to: .member(id(7)), message: $0.message) }
        mesh.deliver(redirected, from: id(100), now: ms(0))
        #expect(mesh.engines[id(100)]!.store.presentCount == 41)
        #expect(mesh.engines[id(7)]!.store.isPresent(id(100)))
        #expect(mesh.engines[id(100)]!.store.summary == mesh.engines[id(7)]!.store.summary)
        let joinedSomewhereElse = mesh.engines.values.filter { $0.store.isPresent(id(100)) }.count
        #expect(joinedSomewhereElse > 4, "news is pushed on at once")
    }

    /// Two members join through one peer a moment apart, after the mesh's own news has died
    /// down: the second one's first exchange brings the first joiner as news, and it must not
    /// wait for rumours to bring the rest (nothing else would: it knows no other address). Seen
    /// in the routing stage: a client that learnt only the other client stayed on an island,
    /// was pruned, and led a line of its own.
    @Test func aJoinerThatHearsOtherNewsFirstStillGetsEverything() {
        var mesh = converged(5)
        for step in 0..<30 { mesh.tickAll(now: ms(UInt64(step) * 200)) }
        for joinerID: UInt64 in [100, 101] {
            var joiner = engine(joinerID)
            joiner.publish(record(joinerID, 1), now: ms(6_000))
            joiner.setBootstrapPeers(count: 1)
            let out = joiner.tick(now: ms(6_000))
            mesh.engines[id(joinerID)] = joiner
            // The joiner reaches its bootstrap peer only; nobody else reaches it.
            mesh.dropped = { outgoing, sender in
                (sender == id(joinerID) && outgoing.to != .member(id(1)))
                    || (outgoing.to == .member(id(joinerID)) && sender != id(1))
            }
            let redirected = out.map { Outgoing(to: .member(id(1)), message: $0.message) }
            mesh.deliver(redirected, from: id(joinerID), now: ms(6_000))
        }
        #expect(mesh.engines[id(101)]!.store.presentCount == 7)
        #expect(mesh.engines[id(101)]!.store.summary == mesh.engines[id(1)]!.store.summary)
    }

    /// A joiner whose first news named only part of the mesh keeps asking its bootstrap peer
    /// and never leads a line of its own, however long the mesh stays silent.
    @Test func aJoinerKeepsItsBootstrapPeerAndNeverLeadsAlone() {
        var joiner = engine(100)
        joiner.publish(record(100, 1), now: ms(0))
        joiner.setBootstrapPeers(count: 1)
        let news = Digest(
            summary: MemberStore.with(Updates(records: [record(50, 1)])).summary, epoch: nil,
            rumors: Updates(records: [record(50, 1)]))
        _ = joiner.receive(.digest(news), from: id(50), now: ms(10))
        #expect(joiner.store.presentCount == 2)
        var pruned = false
        for step in 1...100 {
            let out = joiner.tick(now: ms(UInt64(step) * 200))
            #expect(out.contains { $0.to == .bootstrap(0) }, "round \(step) asks the bootstrap peer")
            pruned = pruned || !joiner.store.isPresent(id(50))
        }
        #expect(!joiner.isLeader && joiner.epoch == nil)
        #expect(!pruned)
    }

    @Test func newsSpreadsToEveryoneWithinAFewRounds() {
        var mesh = converged(200)
        let out = mesh.engines[id(50)]!.publish(record(50, 2), now: ms(0))
        mesh.deliver(out, from: id(50), now: ms(0))
        var rounds = 0
        while mesh.engines.values.contains(where: { $0.store.record(for: id(50))?.version != 2 }) && rounds < 12 {
            rounds += 1
            mesh.tickAll(now: ms(UInt64(rounds) * 200))
        }
        #expect(rounds <= 6)
        let summaries = Set(mesh.engines.values.map(\.store.summary))
        #expect(summaries.count == 1)
    }

    @Test func leaderIsTheLowestKeyAndEpochsDoNotTouchVersions() {
        var mesh = converged(20)
        let before = mesh.engines[id(5)]!.store.summary
        for step in 0..<20 { mesh.tickAll(now: ms(UInt64(step) * 200)) }
        #expect(mesh.engines[id(1)]!.isLeader)
        #expect(mesh.engines.values.allSatisfy { $0.leader == id(1) })
        #expect(mesh.engines[id(5)]!.epoch!.number >= 4)
        #expect(mesh.engines[id(5)]!.store.summary == before, "liveness never changes the store")
    }

    /// Members behind NAT cannot lead (nobody could reach them with acknowledgements): the
    /// lowest member that may lead does, whatever the keys below it; a mesh where nobody may
    /// lead still gets a leader.
    @Test func onlyMembersThatMayLeadLead() {
        struct NoLowKeys: RecordValidator {
            func accept(_ record: MemberRecord) -> Bool { true }
            func accept(_ tombstone: Tombstone, issuer: MemberRecord?) -> Bool { true }
            func accept(_ heartbeat: Heartbeat, leader: MemberRecord) -> Bool { true }
            func canLead(_ record: MemberRecord) -> Bool { record.owner > id(3) }
        }
        var mesh = converged(8, validator: NoLowKeys())
        for step in 0..<20 { mesh.tickAll(now: ms(UInt64(step) * 200)) }
        #expect(mesh.engines.values.allSatisfy { $0.leader == id(4) })
        #expect(mesh.engines[id(4)]!.isLeader && !mesh.engines[id(1)]!.isLeader)

        struct NobodyLeads: RecordValidator {
            func accept(_ record: MemberRecord) -> Bool { true }
            func accept(_ tombstone: Tombstone, issuer: MemberRecord?) -> Bool { true }
            func accept(_ heartbeat: Heartbeat, leader: MemberRecord) -> Bool { true }
            func canLead(_ record: MemberRecord) -> Bool { false }
        }
        var clients = converged(4, validator: NobodyLeads())
        for step in 0..<20 { clients.tickAll(now: ms(UInt64(step) * 200)) }
        #expect(clients.engines.values.allSatisfy { $0.leader == id(1) })
    }

    @Test func aSilentMemberIsPrunedAfterThreeMissedEpochs() {
        var mesh = converged(10)
        for step in 0...10 { mesh.tickAll(now: ms(UInt64(step) * 200)) }
        #expect(mesh.engines[id(7)]!.epoch?.number == 3, "acknowledged the epoch opened at 2 s")
        mesh.dropped = { outgoing, sender in sender == id(7) || outgoing.to == .member(id(7)) }
        var prunedAt: UInt64?
        for step in 11..<50 where prunedAt == nil {
            mesh.tickAll(now: ms(UInt64(step) * 200))
            if !mesh.engines[id(1)]!.store.isPresent(id(7)) { prunedAt = UInt64(step) * 200 }
        }
        let at = try! #require(prunedAt)
        // Silent from 2.2 s: epochs 4, 5 and 6 go unanswered; the miss of epoch 6 counts at its
        // ack deadline, 6.3 s, seen at the next 200 ms tick.
        #expect(at >= 2200 + 3000 && at <= 6600, "three missed epochs, not fewer")
        #expect(mesh.engines.values.filter { $0.me != id(7) }.allSatisfy { !$0.store.isPresent(id(7)) })
        let tombstone = mesh.engines[id(2)]!.store.entry(for: id(7))!.tombstone!
        #expect(tombstone.kind == .pruned && tombstone.issuer == id(1) && tombstone.version == 1)
    }

    @Test func theNextLowestKeyTakesOverAfterThreeSilentIntervals() throws {
        var mesh = converged(8)
        for step in 0..<10 { mesh.tickAll(now: ms(UInt64(step) * 200)) }
        mesh.engines[id(1)] = nil
        var tookOver: UInt64?
        for step in 10..<80 where tookOver == nil {
            mesh.tickAll(now: ms(UInt64(step) * 200))
            if mesh.engines[id(2)]!.isLeader { tookOver = UInt64(step) * 200 }
        }
        let at = try! #require(tookOver)
        #expect(at >= 3000 && at <= 4600)
        // The silent leader gets one epoch to answer, then goes at that epoch's ack deadline.
        var prunedAt: UInt64?
        for step in (at / 200)..<120 where prunedAt == nil {
            mesh.tickAll(now: ms(UInt64(step) * 200))
            if !mesh.engines[id(2)]!.store.isPresent(id(1)) { prunedAt = UInt64(step) * 200 }
        }
        let pruned = try #require(prunedAt)
        #expect(pruned - at <= 1600, "pruned \(pruned - at) ms after the takeover")
        for step in 120..<160 { mesh.tickAll(now: ms(UInt64(step) * 200)) }
        #expect(mesh.engines.values.allSatisfy { $0.leader == id(2) && !$0.store.isPresent(id(1)) })
    }

    /// Only the silent leader gets the short grace. Another member the successor once
    /// suspected (a joiner that briefly followed its own epochs) keeps the usual three epochs:
    /// here it misses the first one and must survive.
    @Test func onlyTheReplacedLeaderIsPrunedEarly() throws {
        var mesh = converged(8)
        for step in 0..<10 { mesh.tickAll(now: ms(UInt64(step) * 200)) }
        mesh.engines[id(2)]!.liveness.suspects.insert(id(5))
        mesh.engines[id(1)] = nil
        // id(5) is silent from now until just after the successor's first epoch.
        mesh.dropped = { _, sender in sender == id(5) }
        var tookOver: UInt64?
        for step in 10..<80 where tookOver == nil {
            mesh.tickAll(now: ms(UInt64(step) * 200))
            if mesh.engines[id(2)]!.isLeader { tookOver = UInt64(step) * 200 }
        }
        let at = try #require(tookOver) / 200
        for step in (at + 1)..<(at + 6) { mesh.tickAll(now: ms(step * 200)) }
        mesh.dropped = { _, _ in false }
        for step in (at + 6)..<(at + 40) { mesh.tickAll(now: ms(step * 200)) }
        #expect(mesh.engines[id(2)]!.store.isPresent(id(5)), "a member that missed one epoch was pruned")
        #expect(!mesh.engines[id(2)]!.store.isPresent(id(1)))
    }

    @Test func aPrunedMemberThatIsAliveAsksToRepublishAndComesBack() {
        var node = engine(3)
        node.restore(.with(Updates(records: [record(1, 1), record(3, 4)])))
        _ = node.drainEvents()
        let tombstone = pruned(3, 4, by: 1)
        let digest = Digest(
            summary: StoreSummary(hash: 1, count: 1), epoch: nil, rumors: Updates(tombstones: [tombstone]))
        _ = node.receive(.digest(digest), from: id(1), now: ms(0))
        #expect(node.drainEvents().contains(.republishNeeded(minimumVersion: 5)))
        #expect(node.nextOwnVersion == 5)
        node.publish(record(3, 5), now: ms(1))
        #expect(node.store.isPresent(id(3)))
    }

    @Test func leavingIsFinalAndNotRedialled() {
        var mesh = converged(6)
        let out = mesh.engines[id(4)]!.leave(now: ms(0))
        mesh.deliver(out, from: id(4), now: ms(0))
        for step in 1..<10 { mesh.tickAll(now: ms(UInt64(step) * 200)) }
        for member in [1, 2, 3, 5, 6] as [UInt64] {
            let node = mesh.engines[id(member)]!
            #expect(node.store.entry(for: id(4))?.tombstone?.kind == .left)
        }
        var other = mesh.engines[id(2)]!
        let events = other.drainEvents()
        #expect(events.contains(.left(id(4))))
        let later = other.tick(now: ms(60_000))
        #expect(!later.contains { $0.to == .member(id(4)) })
    }

    @Test func prunedMembersAreRedialledWithBackoff() {
        // Node 2 follows node 1, the lowest key, so node 1's prune of node 3 is accepted.
        var node = engine(2)
        node.restore(.with(Updates(records: [record(1, 1), record(2, 1), record(3, 1)])))
        _ = node.receive(
            .digest(
                Digest(
                    summary: StoreSummary(hash: 0, count: 0), epoch: nil,
                    rumors: Updates(tombstones: [pruned(3, 1, by: 1)]))),
            from: id(1), now: ms(0))
        #expect(!node.store.isPresent(id(3)))
        var dials: [UInt64] = []
        for step in 1...150 {
            let now = UInt64(step) * 200
            if node.tick(now: ms(now)).contains(where: { $0.to == .member(id(3)) }) { dials.append(now) }
        }
        #expect(dials.count >= 3 && dials.count <= 6)
        let gaps = zip(dials.dropFirst(), dials).map { $0 - $1 }
        #expect(gaps == gaps.sorted(), "the waits grow")
    }

    @Test func malformedMessagesAreDroppedAndCounted() {
        var node = engine(1)
        let bad = BucketDigest(level: 2, hashes: [1, 2, 3])
        #expect(node.receive(.buckets(bad), from: id(2), now: ms(0)).isEmpty)
        let huge = record(2, 1, payload: [UInt8](repeating: 0, count: GossipLimits.maxPayloadBytes + 1))
        let digest = Digest(summary: StoreSummary(hash: 0, count: 0), epoch: nil, rumors: Updates(records: [huge]))
        #expect(node.receive(.digest(digest), from: id(2), now: ms(0)).isEmpty)
        #expect(node.rejections[.malformed] == 2)
        #expect(node.store.entry(for: id(2)) == nil)
    }

    @Test func newsIsPushedAtOnceButAtMostOncePerRound() {
        var node = converged(20).engines[id(3)]!
        #expect(node.publish(record(3, 2), now: ms(0)).count == 3)
        #expect(node.publish(record(3, 3), now: ms(1)).isEmpty, "the second change waits for the round")
        let round = node.tick(now: ms(2)).compactMap { outgoing -> Digest? in
            if case .digest(let digest) = outgoing.message { return digest } else { return nil }
        }
        #expect(round.count == 3, "rounds use the full fanout while there is news")
        #expect(round.allSatisfy { $0.rumors.records.map(\.version) == [3] })
    }

    @Test func newsHeardBackIsNoLongerSpread() {
        var node = converged(20).engines[id(3)]!
        _ = node.publish(record(3, 2), now: ms(0))
        let echo = Digest(summary: node.store.summary, epoch: nil, rumors: Updates(records: [record(3, 2)]))
        _ = node.receive(.digest(echo), from: id(4), now: ms(1))
        let round = node.tick(now: ms(2)).compactMap { outgoing -> Digest? in
            if case .digest(let digest) = outgoing.message { digest } else { nil }
        }
        #expect(round.count == 2, "down to the repair fanout until its leader's summary shows the news")
        #expect(round.allSatisfy { $0.rumors.isEmpty })
    }

    @Test func aBurstOfNewsGoesToBucketsAtOnce() {
        var store = MemberStore()
        for member in 1...100 { store.add(record(UInt64(member), 1)) }
        var a = engine(1)
        a.restore(store)
        var burst = Updates()
        for member in 50...80 { burst.records.append(record(UInt64(member), 2)) }
        var changed = store
        changed.merge(.with(burst))
        changed.add(record(90, 2))
        let digest = Digest(summary: changed.summary, epoch: nil, rumors: burst)
        let replies = a.receive(.digest(digest), from: id(2), now: ms(0))
        #expect(replies.contains { if case .buckets = $0.message { true } else { false } })
        var b = engine(1)
        b.restore(store)
        let small = Updates(records: Array(burst.records.prefix(3)))
        let quiet = b.receive(
            .digest(Digest(summary: changed.summary, epoch: nil, rumors: small)), from: id(2), now: ms(0))
        #expect(
            !quiet.contains { if case .buckets = $0.message { true } else { false } }, "a little news settles itself")
    }

    @Test func tombstonesEveryoneHoldsAreCompactedAfterTheRetention() {
        var config = GossipConfig()
        config.tombstoneRetentionEpochs = 2
        var mesh = converged(6, config: config)
        mesh.dropped = { outgoing, sender in sender == id(6) || outgoing.to == .member(id(6)) }
        var step: UInt64 = 0
        while mesh.engines[id(2)]!.store.entry(for: id(6))?.tombstone == nil && step < 50 {
            mesh.tickAll(now: ms(step * 200))
            step += 1
        }
        #expect(mesh.engines[id(2)]!.store.entry(for: id(6))?.tombstone?.kind == .pruned)
        mesh.engines[id(6)] = nil
        for later in step..<step + 40 { mesh.tickAll(now: ms(later * 200)) }
        for node in mesh.engines.values {
            #expect(node.store.entry(for: id(6)) == nil, "compacted once stable for two epochs")
            #expect(node.store.floors[id(6)] == 1)
        }
        #expect(Set(mesh.engines.values.map(\.store.summary)).count == 1)
        var node = mesh.engines[id(3)]!
        let stale = Digest(
            summary: StoreSummary(hash: 0, count: 0), epoch: nil, rumors: Updates(records: [record(6, 1)]))
        _ = node.receive(.digest(stale), from: id(4), now: ms(99_000))
        #expect(!node.store.isPresent(id(6)))
        #expect(node.rejections[.compacted] == 1)
        #expect(node.store.entry(for: id(6)) == nil, "only the leader re-issues")

        // The same stale record reaching the leader brings the removal back, for the one who
        // still holds member 6 to learn it.
        var leader = mesh.engines[id(1)]!
        let pushed = leader.receive(.digest(stale), from: id(4), now: ms(99_000))
        #expect(
            leader.store.entry(for: id(6))?.tombstone
                == Tombstone(member: id(6), version: 1, kind: .pruned, issuer: id(1), proof: []))
        #expect(!pushed.isEmpty)
        var returner = engine(9)
        returner.restore(.with(Updates(records: [record(1, 1), record(6, 1), record(9, 1)])))
        let removal = Updates(tombstones: [leader.store.entry(for: id(6))!.tombstone!])
        _ = returner.receive(
            .digest(Digest(summary: leader.store.summary, epoch: nil, rumors: removal)), from: id(1), now: ms(99_001))
        #expect(!returner.store.isPresent(id(6)))
    }

    @Test func wireEstimatesMatchTheDocumentedLayout() {
        let stamp = EpochStamp(leader: id(1), number: 9)
        #expect(GossipMessage.ack(Ack(epoch: stamp)).wireSizeEstimate == 104 + 4 + 1)
        #expect(GossipMessage.ack(Ack(line: 1, number: 300)).wireSizeEstimate == 104 + 4 + 2)
        let digest = Digest(summary: StoreSummary(hash: 1, count: 2), epoch: stamp)
        #expect(GossipMessage.digest(digest).wireSizeEstimate == 104 + 12 + 1 + 40 + 2)
        let withRecord = Digest(summary: digest.summary, epoch: nil, rumors: Updates(records: [record(1, 1)]))
        #expect(GossipMessage.digest(withRecord).wireSizeEstimate == 104 + 12 + 1 + 2 + 42 + 3)
    }
}
