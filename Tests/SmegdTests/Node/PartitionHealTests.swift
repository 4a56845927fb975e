import Foundation
import GossipCRDT
import Testing

@testable import MeshCore
@testable import smegd

/// A node that joins one half of a partition with the lowest key of the whole mesh leads that
/// half; after the heal the other half sees it as young. Its leader used to keep leading and
/// prune the newcomer at every third epoch (it never acknowledged a higher key), so the two
/// lines never merged. Members now answer a present member's probe even when they refuse its
/// line, so the newcomer stays, comes of age, and leads everyone.
@Suite struct PartitionHealTests {
    @Test func aNewcomerWithTheLowestKeyOnOneSideOfAPartitionHeals() throws {
        var net = SimulatedMesh(owned: true)
        for _ in 0..<3 { try net.add() }
        #expect(net.time(until: .seconds(10)) { $0.agree([0, 1, 2]) } != nil)
        let sideA: Set<Int> = [0, 2, 3]
        net.cut = { a, b in sideA.contains(a) != sideA.contains(b) }
        net.run(for: .seconds(1))
        try net.add(bootstrap: 0)
        net.run(for: .seconds(1))
        // Node 4 has the lowest key of all five and joins the half without node 2, the other
        // half's leader.
        try net.add(bootstrap: 1)
        #expect(net.time(until: .seconds(10)) { $0.agree([0, 2, 3]) && $0.agree([1, 4]) } != nil)
        net.cut = { _, _ in false }
        let healed = net.time(until: .seconds(60)) { $0.agree(Array(0..<5)) }
        #expect(healed != nil)
        print("a newcomer with the lowest key on one side: healed after \(healed.map { "\($0)" } ?? "never")")
        #expect(net.nodes.allSatisfy { $0.core.engine.leader == net.nodes[4].identity.nodeID })
    }
}
