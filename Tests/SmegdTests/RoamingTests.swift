import Foundation
import GossipCRDT
import Testing

@testable import MeshCore
@testable import smegd

/// Laptops come back at once, in the in-process harness (the namespace stage is
/// scripts/roaming-test.sh): three peers and a laptop behind a NAT, frozen, suspended, with only
/// its daemon stopped, and moved to another network. The harness's WireGuard follows the real
/// one's rules (a side whose session the other dropped is not answered and retries only after
/// 15 s; a peer cannot reach a client behind NAT), so what is measured is what smegd does.
@Suite struct RoamingTests {
    static let restrictedCone = SimulatedNAT.Behaviour(mapping: .endpointIndependent, filtering: .addressDependent)

    /// Three peers and a laptop, converged, its session with its peer up; `grace` is every
    /// node's `prunedClientGrace`.
    static func lab(
        grace: Duration = DaemonConfig().prunedClientGrace
    ) throws -> (SimulatedMesh, laptop: Int, peer: Int) {
        var net = SimulatedMesh()
        net.config.prunedClientGrace = grace
        for _ in 0..<3 { try net.add() }
        let laptop = try net.add(role: .client, behind: restrictedCone)
        #expect(net.time(until: .seconds(10)) { $0.agree([0, 1, 2, 3]) } != nil)
        net.run(for: .seconds(3))
        let peer = try #require(net.attachment(of: laptop))
        #expect(net.sessionUp(laptop, peer))
        return (net, laptop, peer)
    }

    /// From now, the laptop and its peer ping each other every 0.2 s: the time until both have
    /// had an answer, and the other peers route the laptop's address to that peer (they reach
    /// it through it); and the time until every node's membership is whole. Nil when that does
    /// not happen within `limit`.
    static func measure(
        _ net: inout SimulatedMesh, _ laptop: Int, _ peer: Int, limit: Duration = .seconds(40)
    ) -> (pings: Duration?, members: Duration?) {
        let start = net.now
        let address = IPNet(address: net.nodes[laptop].identity.address(in: net.mesh).bytes, prefixLength: 128)!
        var pings: Duration?
        var members: Duration?
        while net.now.since(start) <= limit && (pings == nil || members == nil) {
            if members == nil && net.agree(Array(net.nodes.indices)) { members = net.now.since(start) }
            if pings == nil {
                net.ping(laptop, peer)
                net.ping(peer, laptop)
            }
            net.run(for: .milliseconds(200))
            let echoed = [(laptop, peer), (peer, laptop)].allSatisfy { from, to in
                net.lastEcho(from, to).map { $0 > start } ?? false
            }
            let routed = (0..<3).filter { $0 != peer }.allSatisfy { other in
                net.nodes[other].desired?.device.peers.contains {
                    $0.publicKey == net.nodes[peer].key && $0.allowedIPs.contains(address)
                } ?? false
            }
            if pings == nil && echoed && routed { pings = net.now.since(start) }
        }
        return (pings, members)
    }

    static func pingsBothWays(
        _ net: inout SimulatedMesh, _ laptop: Int, _ peer: Int, limit: Duration = .seconds(40)
    ) -> Duration? {
        measure(&net, laptop, peer, limit: limit).pings
    }

    static func text(_ duration: Duration?) -> String { duration.map { "\($0.seconds) s" } ?? "never" }

    /// Every process of the laptop frozen (both clocks run on, its first tick after is late):
    /// its pings work within 2 s of continuing, with and without the peers' grace for pruned
    /// clients.
    @Test(arguments: [(20, 120), (90, 120), (20, 0), (90, 0)])
    func aFrozenLaptopPingsWithinTwoSecondsOfContinuing(frozen: Int, grace: Int) throws {
        var (net, laptop, peer) = try Self.lab(grace: .seconds(grace))
        net.setAsleep(laptop, true)
        net.run(for: .seconds(frozen))
        #expect(!net.present(at: 0).contains(net.nodes[laptop].identity.nodeID), "pruned meanwhile")
        net.setAsleep(laptop, false)
        // Its first tick notices the freeze; how long the catching up then lasts depends on
        // where the leader's epoch falls, so it is checked at once, not after the pings.
        net.run(for: .milliseconds(100))
        #expect(net.nodes[laptop].core.reconnect != nil, "reconnecting")
        var (pings, member) = Self.measure(&net, laptop, peer)
        pings = pings.map { $0 + .milliseconds(100) }
        member = member.map { $0 + .milliseconds(100) }
        #expect(pings.map { $0 <= .seconds(2) } ?? false, "pings after \(Self.text(pings))")
        net.run(for: .seconds(2))
        #expect(net.nodes[laptop].core.reconnect == nil, "caught up")
        print(
            "Roaming harness, laptop frozen \(frozen) s, grace \(grace) s: pings both ways \(Self.text(pings)) "
                + "after continuing, membership whole after \(Self.text(member)) (virtual time)")
    }

    /// A laptop's suspend stops its monotonic clock while the wall clock runs on: its first tick
    /// after waking is on time by the monotonic clock, and the wall clock's jump is what tells
    /// it. It follows the leader again although the mesh opened epochs the monotonic clock did
    /// not see (the epoch bound is widened by the jump).
    @Test func aSuspendedLaptopNoticesTheWallClockJump() throws {
        var (net, laptop, peer) = try Self.lab(grace: .zero)
        let before = try #require(net.nodes[laptop].core.engine.epoch)
        net.setAsleep(laptop, true, suspended: true)
        net.run(for: .seconds(60))
        net.setAsleep(laptop, false)
        let woke = net.now
        net.run(for: .milliseconds(100))
        #expect(net.nodes[laptop].core.reconnect?.reason.hasPrefix("back after 60") == true)
        let pings = Self.pingsBothWays(&net, laptop, peer)
        #expect(pings.map { $0 <= .seconds(2) } ?? false, "pings after \(Self.text(pings))")
        let after = try #require(net.nodes[laptop].core.engine.epoch)
        #expect(after.number >= before.number + 55, "follows the mesh's line: \(before.number) → \(after.number)")
        #expect(net.agree([0, 1, 2, 3]))
        print(
            "Roaming harness, laptop suspended 60 s (monotonic clock stopped): pings both ways "
                + "\(Self.text(pings)) after waking, epoch \(before.number) → \(after.number) "
                + "(\(Self.text(net.now.since(woke))) after waking)")
    }

    /// Only the laptop's daemon stopped, its WireGuard running: with the grace its peers keep
    /// its sessions and pings never stop; without it, they work again within 2 s of the daemon
    /// continuing.
    @Test(arguments: [120, 0])
    func aStoppedDaemonPingsWithinTwoSecondsOfContinuing(grace: Int) throws {
        var (net, laptop, peer) = try Self.lab(grace: .seconds(grace))
        net.setDaemonStopped(laptop, true)
        net.run(for: .seconds(20))
        #expect(!net.present(at: 0).contains(net.nodes[laptop].identity.nodeID), "pruned meanwhile")
        let during = Self.pingsBothWays(&net, laptop, peer, limit: .seconds(1))
        if grace > 0 { #expect(during != nil, "the grace keeps the laptop's sessions while its daemon is stopped") }
        net.setDaemonStopped(laptop, false)
        let pings = Self.pingsBothWays(&net, laptop, peer)
        #expect(pings.map { $0 <= .seconds(2) } ?? false, "pings after \(Self.text(pings))")
        print(
            "Roaming harness, laptop's daemon stopped 20 s, grace \(grace) s: pings while stopped "
                + "\(during == nil ? "no" : "yes"), both ways \(Self.text(pings)) after it continued")
    }

    /// The laptop moves to another network (a new NAT, no mappings): the link monitor's input
    /// renews its session from there and its gossip goes out at once, so pings work within 2 s;
    /// without it the peer keeps answering an address the laptop is no longer behind.
    @Test(arguments: [true, false])
    func aLaptopOnAnotherNetworkPingsWithinTwoSeconds(noticed: Bool) throws {
        var (net, laptop, peer) = try Self.lab()
        net.moveBehindNewNAT(laptop)
        if noticed { net.networkChanged(laptop, what: "moved") }
        let pings = Self.pingsBothWays(&net, laptop, peer)
        if noticed {
            #expect(pings.map { $0 <= .seconds(2) } ?? false, "pings after \(Self.text(pings))")
            #expect(net.present(at: 0).contains(net.nodes[laptop].identity.nodeID), "never pruned")
        }
        print(
            "Roaming harness, laptop moved behind another NAT, \(noticed ? "noticed by the link monitor" : "unnoticed"): "
                + "pings both ways \(Self.text(pings)) after the move")
    }

    /// A pruned client's sessions stay on every member for the grace and go after it; an
    /// evicted one goes at once.
    @Test func aPrunedClientsSessionsStayForTheGraceOnly() throws {
        var net = SimulatedMesh()
        net.config.prunedClientGrace = .seconds(30)
        for _ in 0..<3 { try net.add() }
        let laptop = try net.add(role: .client, behind: Self.restrictedCone)
        #expect(net.time(until: .seconds(10)) { $0.agree([0, 1, 2, 3]) } != nil)
        net.run(for: .seconds(6))
        let key = net.nodes[laptop].key
        net.kill(laptop)
        let pruned = try #require(
            net.time(until: .seconds(10)) { net in
                (0..<3).allSatisfy { !net.present(at: $0).contains(net.nodes[laptop].identity.nodeID) }
            })
        let peer = try #require((0..<3).first { net.desiredPeers(at: $0).contains(key) })
        #expect(net.nodes[peer].desired?.device.peers.first { $0.publicKey == key } != nil)
        net.run(for: .seconds(25))
        #expect(net.desiredPeers(at: peer).contains(key), "kept through the grace")
        let gone = net.time(until: .seconds(10)) { !$0.desiredPeers(at: peer).contains(key) }
        #expect(gone != nil, "dropped once the grace is over")
        print(
            "Roaming harness, a dead client: pruned after \(Self.text(pruned)), its session went "
                + "\(Self.text(gone.map { $0 + .seconds(25) })) after that (grace 30 s)")
    }

    @Test func anEvictedClientLosesItsGraceAtOnce() throws {
        var net = try SimulatedMesh.agreeing(3)
        net.config.prunedClientGrace = .seconds(120)
        let laptop = try net.add(role: .client, behind: Self.restrictedCone)
        #expect(net.time(until: .seconds(10)) { $0.agree([0, 1, 2, 3]) } != nil)
        net.run(for: .seconds(6))
        let key = net.nodes[laptop].key
        net.setAsleep(laptop, true)
        #expect(net.time(until: .seconds(10)) { !$0.present(at: 0).contains($0.nodes[laptop].identity.nodeID) } != nil)
        #expect((0..<3).contains { net.desiredPeers(at: $0).contains(key) }, "in its grace")
        let victim = net.nodes[laptop].identity.wireGuardPublicKey.base64
        try net.act(0) { node, wall, now in try node.evict(victim, wallMillis: wall, now: now) }
        let cut = net.time(until: .seconds(5), step: .milliseconds(50)) { net in
            (0..<3).allSatisfy { !net.desiredPeers(at: $0).contains(key) }
        }
        #expect(cut.map { $0 < .seconds(2) } ?? false, "evicted: sessions gone after \(Self.text(cut))")
    }
}

extension RoamingTests {
    /// A client pruned before it came of age (it never answered: a sybil, say) gets no grace.
    @Test func aYoungPrunedClientGetsNoGrace() throws {
        var net = SimulatedMesh()
        for _ in 0..<3 { try net.add() }
        #expect(net.time(until: .seconds(10)) { $0.agree([0, 1, 2]) } != nil)
        net.run(for: .seconds(6))
        let laptop = try net.add(role: .client, behind: Self.restrictedCone)
        #expect(net.time(until: .seconds(3)) { $0.agree([0, 1, 2, 3]) } != nil)
        let key = net.nodes[laptop].key
        net.kill(laptop)
        let gone = net.time(until: .seconds(10)) { net in (0..<3).allSatisfy { !net.desiredPeers(at: $0).contains(key) }
        }
        #expect(gone.map { $0 < .seconds(6) } ?? false, "dropped at the prune: \(Self.text(gone))")
    }
}
