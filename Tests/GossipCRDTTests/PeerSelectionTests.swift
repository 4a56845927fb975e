import Testing

@testable import GossipCRDT

/// Young members (see `LeaderEligibility`) take one fanout slot, more only when too few
/// settled members are left to fill the rest.
@Suite struct PeerSelectionTests {
    static func engineWith(settled: Int, young: Int) -> GossipEngine {
        let total = 1 + settled + young
        var node = engine(1)
        node.restore(MemberStore.with(Updates(records: (1...UInt64(total)).map { record($0, 1) })))
        for n in UInt64(2 + settled)...UInt64(total) { node.liveness.presentSince[id(n)] = node.liveness.epochsAdopted }
        return node
    }

    @Test(arguments: [(1, 2), (0, 5), (2, 2), (1, 40)])
    func youngFillWhatTheSettledCannot(settled: Int, young: Int) {
        var node = Self.engineWith(settled: settled, young: young)
        for _ in 0..<50 {
            let picked = node.pickPeers(3)
            let youngPicked = picked.filter { node.isYoung($0) }.count
            #expect(picked.count == min(3, settled + young), "\(picked.count) of \(settled) settled, \(young) young")
            #expect(Set(picked).count == picked.count && !picked.contains(id(1)))
            #expect(youngPicked <= max(1, 3 - settled))
        }
    }

    /// A flood: thousands of young identities never take more than one slot of three while
    /// two settled members are there to fill the others.
    @Test func aFloodOfYoungMembersTakesOneSlot() {
        var node = Self.engineWith(settled: 4, young: 2_000)
        for _ in 0..<200 {
            let picked = node.pickPeers(3)
            #expect(picked.count == 3)
            #expect(picked.filter { node.isYoung($0) }.count == 1)
        }
    }
}
