import Foundation
import GossipCRDT
import Testing

@testable import MeshCore
@testable import smegd

/// A known liveness bug, kept visible (not counted as passing): a node that joins one half of a
/// partition with the lowest key of the whole mesh leads that half; after the heal the other
/// half sees it as young, so its own leader keeps leading and prunes it (it never acknowledges
/// a higher key), it republishes, and the two lines never merge. docs/gossip.md, "Known limits".
@Suite struct PartitionHealKnownIssueTests {
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
        withKnownIssue("the healed halves keep two leaders") {
            #expect(net.time(until: .seconds(60)) { $0.agree(Array(0..<5)) } != nil)
        }
    }
}
