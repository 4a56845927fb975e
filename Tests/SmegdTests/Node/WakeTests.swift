import Foundation
import GossipCRDT
import Testing

@testable import MeshCore
@testable import smegd

/// How a node notices it was away (MeshNode+Roaming): a late tick or a wall clock that ran
/// ahead of the monotonic one; what it does then; what `status` says; and the link monitor's
/// input.
@Suite struct WakeTests {
    func mesh() throws -> SimulatedMesh {
        var net = SimulatedMesh()
        for _ in 0..<3 { try net.add() }
        #expect(net.time(until: .seconds(10)) { $0.agree([0, 1, 2]) } != nil)
        net.run(for: .seconds(2))
        return net
    }

    /// A stall shorter than a prune takes is nothing to repair; a longer one is a wake, and a
    /// peer renews its sessions with the other peers.
    @Test func aLateTickIsAWakeOnlyPastThePruneTime() throws {
        var net = try mesh()
        net.setAsleep(1, true)
        net.run(for: .seconds(2))
        net.setAsleep(1, false)
        net.run(for: .milliseconds(200))
        #expect(net.nodes[1].core.reconnect == nil, "2 s is no wake")
        #expect(net.nodes[1].wireGuard.restarts == 0)
        net.setAsleep(1, true)
        net.run(for: .seconds(4))
        net.setAsleep(1, false)
        net.run(for: .milliseconds(100))
        let reconnect = try #require(net.nodes[1].core.reconnect)
        #expect(reconnect.reason.hasPrefix("back after 4"), "\(reconnect.reason)")
        #expect(net.nodes[1].core.status(now: net.clock(1)).reconnecting?.reason == reconnect.reason)
        #expect(net.nodes[1].wireGuard.restarts == 2, "both other peers")
        net.run(for: .seconds(3))
        #expect(net.nodes[1].core.reconnect == nil, "caught up")
        #expect(net.nodes[1].core.status(now: net.clock(1)).reconnecting == nil)
        #expect(net.agree([0, 1, 2]))
    }

    /// The wall clock alone jumping forward (a suspend the monotonic clock did not count, or a
    /// clock step) is a wake; going back is not.
    @Test func aWallClockJumpIsAWakeAndAStepBackIsNot() throws {
        var net = try mesh()
        net.stepWallClock(2, by: .seconds(-3600))
        net.run(for: .milliseconds(300))
        #expect(net.nodes[2].core.reconnect == nil)
        net.stepWallClock(2, by: .seconds(3610))
        net.run(for: .milliseconds(100))
        #expect(net.nodes[2].core.reconnect?.reason.hasPrefix("back after 10") == true)
    }

    /// No frame from any member for five heartbeat intervals: `status` says the mesh is
    /// reconnecting, since the last frame.
    @Test func aSilentMeshShowsAsReconnecting() throws {
        var net = try mesh()
        net.kill(0)
        net.kill(1)
        net.run(for: .seconds(2))
        #expect(net.nodes[2].core.status(now: net.clock(2)).reconnecting == nil)
        net.run(for: .seconds(4))
        let view = try #require(net.nodes[2].core.status(now: net.clock(2)).reconnecting)
        #expect(view.reason.hasPrefix("no frame from any member for"), "\(view.reason)")
        #expect(net.wall(2) - view.sinceMillis >= 5000 && net.wall(2) - view.sinceMillis < 7000)
    }

    /// The link monitor's input: a peer whose host addresses changed publishes them at once,
    /// renews its sessions and gossips.
    @Test func aNetworkChangeRepublishesAPeersEndpoints() throws {
        var net = try mesh()
        let moved = Endpoint("10.1.9.9:\(SimulatedMesh.wireGuardPort)")!
        let before = net.frames
        try net.act(1) { node, wall, now in
            node.networkChanged(hostEndpoints: [moved], what: "address added", now: now, wallMillis: wall)
        }
        #expect(net.frames > before, "gossip at once")
        #expect(net.nodes[1].wireGuard.restarts == 2)
        #expect(net.nodes[1].core.reconnect?.reason == "the network changed (address added)")
        let seen = net.time(until: .seconds(2), step: .milliseconds(20)) { net in
            net.nodes[0].core.records[net.nodes[1].identity.nodeID]?.endpoints == [moved]
        }
        #expect(seen.map { $0 < .milliseconds(200) } ?? false, "republished: seen after \(String(describing: seen))")
    }
}
