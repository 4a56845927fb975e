import Foundation
import GossipCRDT
import Testing

@testable import MeshCore
@testable import smegd

/// The daemon's per-mesh logic (`MeshNode`, with `GossipCore` and the engine inside) at up to
/// 50 nodes over the simulated network of `SimulatedMesh`.
@Suite struct GossipCoreTests {
    @Test func aJoinerIntroducesItselfAndEveryoneConverges() throws {
        var net = SimulatedMesh()
        for _ in 0..<3 { try net.add() }
        let joined = net.time(until: .seconds(5)) { $0.agree([0, 1, 2]) }
        #expect(joined != nil && joined! <= .seconds(2), "joined after \(String(describing: joined))")
        // Every node learns the others' addresses from proven frames, not only from records.
        net.run(for: .seconds(2))
        for index in 0..<3 {
            #expect(net.nodes[index].core.gossip.wire.learned.count == 2)
        }
        #expect(net.refusals.filter { $0.key != "reply-over-budget" }.isEmpty, "\(net.refusals)")
    }

    /// The daemon's own logic in one process at 50 nodes: 50 joins through one bootstrap node,
    /// then a kill -9. At 50 ms apart, joiners' first syncs bring each other as news and
    /// members see the lowest key arrive at different epochs: before the fixes this settled
    /// never, and the kill left four members on a dead leader's line.
    @Test(arguments: [300, 50]) func fiftyNodesJoinAndLoseOne(gapMilliseconds: Int) throws {
        let wall = ContinuousClock.now
        var net = SimulatedMesh()
        try net.add()
        for _ in 1..<50 {
            try net.add()
            net.run(for: .milliseconds(gapMilliseconds))
        }
        let all = Array(0..<50)
        let joined = net.time(until: .seconds(20)) { $0.agree(all) }
        #expect(joined != nil, "50 nodes did not converge")
        // Membership reaches the kernel: every node asks for a session with every other.
        net.run(for: .milliseconds(300))
        let keys = Set(net.nodes.map { WireGuardKey(bytes: $0.identity.nodeID.bytes)! })
        for index in all {
            let others = keys.subtracting([WireGuardKey(bytes: net.nodes[index].identity.nodeID.bytes)!])
            #expect(net.desiredPeers(at: index) == others, "node \(index)'s WireGuard peers")
        }
        net.kill(17)
        let pruned = net.time(until: .seconds(10)) { $0.agree(all) }
        #expect(
            pruned != nil && pruned! <= .seconds(6), "the killed node was pruned after \(String(describing: pruned))")
        #expect(net.refusals.filter { $0.key != "reply-over-budget" }.isEmpty, "\(net.refusals)")
        let describe = { (value: Duration?) in value.map { "\($0.seconds) s" } ?? "never" }
        print(
            "GossipCore harness, 50 nodes \(gapMilliseconds) ms apart: settled \(describe(joined)) after the last join, killed node pruned "
                + "everywhere after \(describe(pruned)) (virtual time); \(net.frames) frames; wall time "
                + "\(ContinuousClock.now - wall)")
    }
}

extension GossipCoreTests {
    /// A 50-node mesh split in halves: each half prunes the other and goes on under its own
    /// leader, and once healed the mesh is whole again under one leader.
    @Test func fiftyNodesSplitInHalvesAndHeal() throws {
        let wall = ContinuousClock.now
        var net = SimulatedMesh()
        try net.add()
        for _ in 1..<50 {
            try net.add()
            net.run(for: .milliseconds(300))
        }
        let all = Array(0..<50)
        #expect(net.time(until: .seconds(20)) { $0.agree(all) } != nil, "50 nodes did not converge")
        net.run(for: .seconds(10))
        let low = Array(0..<25)
        let high = Array(25..<50)
        net.cut = { a, b in (a < 25) != (b < 25) }
        let split = net.time(until: .seconds(30)) { $0.agree(low) && $0.agree(high) }
        net.cut = { _, _ in false }
        let healed = net.time(until: .seconds(30)) { $0.agree(all) }
        let describe = { (value: Duration?) in value.map { "\($0.seconds) s" } ?? "never" }
        print(
            "GossipCore harness, 50 nodes split in halves: each half settled after \(describe(split)), healed "
                + "after \(describe(healed)) (virtual time); wall time \(ContinuousClock.now - wall)")
        #expect(split != nil && split! <= .seconds(10), "the halves settled after \(describe(split))")
        #expect(healed != nil && healed! <= .seconds(10), "the healed mesh settled after \(describe(healed))")
    }
}

extension GossipCoreTests {
    /// Clients attach: each asks its kernel for one session, with a peer, and exactly one peer
    /// holds a session with each client (the others reach it through that peer).
    @Test func clientsAttachToOnePeerEach() throws {
        var net = SimulatedMesh()
        for _ in 0..<3 { try net.add() }
        for _ in 0..<2 { try net.add(role: .client) }
        let all = Array(0..<5)
        #expect(net.time(until: .seconds(5)) { $0.agree(all) } != nil)
        net.run(for: .milliseconds(300))
        let key = { (index: Int) in WireGuardKey(bytes: net.nodes[index].identity.nodeID.bytes)! }
        let peers = Set((0..<3).map(key))
        for client in 3..<5 {
            let sessions = net.desiredPeers(at: client)
            #expect(sessions.count == 1 && sessions.isSubset(of: peers), "client \(client): \(sessions)")
            let holders = (0..<3).filter { net.desiredPeers(at: $0).contains(key(client)) }
            #expect(holders.count == 1, "client \(client) is held by \(holders)")
        }
        #expect(net.errors.isEmpty, "\(net.errors)")
    }
}

extension GossipCoreTests {
    /// 10% of every datagram lost, for a minute: nobody is pruned, views stay whole. The
    /// engine's simulator checks the same at 1,000 nodes; this checks it with the daemon's
    /// frames, budgets and republishing on top.
    @Test func twentyNodesUnderTenPercentLossPruneNobody() throws {
        var net = SimulatedMesh()
        try net.add()
        for _ in 1..<20 {
            try net.add()
            net.run(for: .milliseconds(200))
        }
        let all = Array(0..<20)
        #expect(net.time(until: .seconds(20)) { $0.agree(all) } != nil, "20 nodes did not converge")
        net.loss = 0.1
        var whole = true
        for _ in 0..<60 {
            net.run(for: .seconds(1))
            whole = whole && all.allSatisfy { net.present(at: $0).count == 20 }
        }
        #expect(net.prunes == 0, "\(net.prunes) prunes under 10% loss")
        #expect(whole, "a view lost a live member under 10% loss")
    }
}
