import Foundation
import GossipCRDT
import Testing

@testable import MeshCore
@testable import smegd

/// Clients behind NATs of every kind, in the in-process harness: they join, attach to a peer
/// and get a WireGuard session with it through their NAT, because they start it. What the
/// NATs let through decides; nothing here is a canned result.
@Suite struct NATHarnessTests {
    static let behaviours: [(String, SimulatedNAT.Behaviour)] = [
        ("full cone", .init(mapping: .endpointIndependent, filtering: .endpointIndependent)),
        ("restricted cone", .init(mapping: .endpointIndependent, filtering: .addressDependent)),
        ("port-restricted cone", .init(mapping: .endpointIndependent, filtering: .addressAndPortDependent)),
        ("symmetric", .init(mapping: .addressAndPortDependent, filtering: .addressAndPortDependent)),
    ]

    @Test(arguments: 0..<4)
    func aClientBehindEachKindOfNATJoinsAndGetsASessionWithItsPeer(kind: Int) throws {
        let (name, behaviour) = Self.behaviours[kind]
        var net = SimulatedMesh()
        for _ in 0..<3 { try net.add() }
        #expect(net.time(until: .seconds(5)) { $0.agree([0, 1, 2]) } != nil)
        let client = try net.add(role: .client, behind: behaviour)
        var joined: Duration?
        var session: Duration?
        let start = net.now
        while net.now.since(start) < .seconds(20) && (joined == nil || session == nil) {
            net.run(for: .milliseconds(100))
            if joined == nil && net.agree([0, 1, 2, 3]) { joined = net.now.since(start) }
            if session == nil, let peer = net.attachment(of: client), net.sessionUp(client, peer) {
                session = net.now.since(start)
            }
        }
        #expect(joined != nil, "\(name): the client did not join")
        #expect(session != nil, "\(name): no session with the attachment")
        // Joined within the join bar; the first handshake is retried by smegd every second
        // (WireGuard alone would wait 5 s after an initiation that reached a peer too early).
        #expect(joined.map { $0 <= .seconds(2) } ?? false, "\(name): joined after \(String(describing: joined))")
        #expect(session.map { $0 <= .seconds(3) } ?? false, "\(name): session after \(String(describing: session))")
        print(
            "NAT harness, client behind a \(name) NAT: joined after \(joined.map { "\($0.seconds) s" } ?? "never"), "
                + "session with its peer after \(session.map { "\($0.seconds) s" } ?? "never") (virtual time, from its start)"
        )
    }

    /// The other way round does not work, and must not be mistaken for working: a peer holds
    /// no endpoint for a client (it publishes none), so only the client can open the session.
    @Test func aPeerCannotOpenTheSessionToAClient() throws {
        var net = SimulatedMesh()
        try net.add()
        let client = try net.add(role: .client, behind: Self.behaviours[3].1)
        #expect(net.time(until: .seconds(5)) { $0.agree([0, 1]) } != nil)
        let clientKey = net.nodes[client].key
        let desired = net.nodes[0].desired?.device.peers.first { $0.publicKey == clientKey }
        #expect(desired != nil && desired?.endpoint == nil, "the peer configures the client without an endpoint")
        #expect(net.time(until: .seconds(5)) { $0.sessionUp(0, client) } != nil)
        // The endpoint the peer holds is the client's NAT mapping, learnt from its handshake.
        #expect(net.nodes[0].wireGuard.peers[clientKey]?.endpoint?.ip == IPAddress("203.0.113.1"))
    }

    /// A client's first initiation lost (it reached the peer before the peer could answer, or
    /// the path dropped it): smegd asks the device, sees no handshake, and starts it again a
    /// second later, instead of WireGuard's own retry after 5 s.
    @Test func aLostFirstHandshakeIsRestartedWithinASecond() throws {
        var net = SimulatedMesh()
        for _ in 0..<3 { try net.add() }
        #expect(net.time(until: .seconds(5)) { $0.agree([0, 1, 2]) } != nil)
        net.cutWireGuard = { _, _ in true }
        let client = try net.add(role: .client, behind: Self.behaviours[2].1)
        net.run(for: .milliseconds(800))
        net.cutWireGuard = { _, _ in false }
        let up = net.time(until: .seconds(10)) { net in
            net.attachment(of: client).map { net.sessionUp(client, $0) } ?? false
        }
        let session = up.map { $0 + .milliseconds(800) }
        #expect(session.map { $0 <= .seconds(2) } ?? false, "session after \(String(describing: session))")
        print(
            "NAT harness, first handshake lost: session after \(session.map { "\($0.seconds) s" } ?? "never") (WireGuard alone: 5 s)"
        )
    }

    /// A laptop asleep longer than its NAT keeps a mapping: the mesh prunes it, and on waking it
    /// is a member again at once, and its pings work again within 2 s: its peer kept its session
    /// through the grace for pruned clients, and the laptop, noticing its late tick, starts a
    /// handshake from its new NAT mapping. (Before smegd did either, WireGuard noticed that the
    /// peer had lost the session only after 15 s without an answer; RoamingTests covers the
    /// other cases.)
    @Test func aLaptopAsleepPastItsNATTimeoutComesBack() throws {
        var net = SimulatedMesh()
        for _ in 0..<3 { try net.add() }
        let laptop = try net.add(role: .client, behind: Self.behaviours[1].1)
        let all = [0, 1, 2, 3]
        #expect(net.time(until: .seconds(10)) { $0.agree(all) } != nil)
        net.run(for: .seconds(3))
        let peer = try #require(net.attachment(of: laptop))
        net.setAsleep(laptop, true)
        let pruned = net.time(until: .seconds(15)) { net in
            !net.present(at: 0).contains(net.nodes[laptop].identity.nodeID)
        }
        #expect(pruned != nil, "the sleeping laptop was not pruned")
        net.run(for: .seconds(40))
        net.setAsleep(laptop, false)
        let woke = net.now
        let member = net.time(until: .seconds(10)) { $0.agree(all) }
        var echoed: Duration?
        while echoed == nil && net.now.since(woke) < .seconds(60) {
            net.ping(laptop, peer)
            net.run(for: .seconds(1))
            if let echo = net.lastEcho(laptop, peer), echo > woke { echoed = echo.since(woke) }
        }
        #expect(member.map { $0 <= .seconds(3) } ?? false, "member again after \(String(describing: member))")
        #expect(echoed.map { $0 <= .seconds(2) } ?? false, "pings after \(String(describing: echoed))")
        print(
            "NAT harness, laptop asleep 40 s behind a restricted-cone NAT: member again "
                + "\(member.map { "\($0.seconds) s" } ?? "never") after waking, pings "
                + "\(echoed.map { "\($0.seconds) s" } ?? "never") after waking (virtual time)")
    }
}

/// The harness's NAT itself behaves as RFC 4787 says, or the tests above would prove nothing.
@Suite struct SimulatedNATTests {
    let inside = PeerAddress(ip: IPAddress("192.168.1.2")!, port: 51820)
    let a = PeerAddress(ip: IPAddress("198.51.100.1")!, port: 51820)
    let a2 = PeerAddress(ip: IPAddress("198.51.100.1")!, port: 7946)
    let b = PeerAddress(ip: IPAddress("198.51.100.2")!, port: 51820)

    func nat(_ mapping: SimulatedNAT.Mapping, _ filtering: SimulatedNAT.Filtering) -> SimulatedNAT {
        SimulatedNAT(publicIP: IPAddress("203.0.113.9")!, behaviour: .init(mapping: mapping, filtering: filtering))
    }

    @Test func mappingIsPerInsideEndpointOrPerDestination() {
        var cone = nat(.endpointIndependent, .endpointIndependent)
        #expect(cone.outbound(from: inside, to: a, now: .zero) == cone.outbound(from: inside, to: b, now: .zero))
        var symmetric = nat(.addressAndPortDependent, .addressAndPortDependent)
        #expect(
            symmetric.outbound(from: inside, to: a, now: .zero) != symmetric.outbound(from: inside, to: b, now: .zero))
    }

    @Test func filteringAdmitsOnlyWhatTheKindAllows() {
        for (filtering, admitsB, admitsOtherPort) in [
            (SimulatedNAT.Filtering.endpointIndependent, true, true), (.addressDependent, false, true),
            (.addressAndPortDependent, false, false),
        ] {
            var router = nat(.endpointIndependent, filtering)
            let port = router.outbound(from: inside, to: a, now: .zero).port
            #expect(router.inbound(to: port, from: a, now: .zero) == inside, "\(filtering): the contacted host")
            #expect((router.inbound(to: port, from: b, now: .zero) != nil) == admitsB, "\(filtering): another host")
            #expect(
                (router.inbound(to: port, from: a2, now: .zero) != nil) == admitsOtherPort, "\(filtering): another port"
            )
            #expect(router.inbound(to: port &+ 1, from: a, now: .zero) == nil, "\(filtering): an unmapped port")
        }
    }

    @Test func anIdleMappingExpires() {
        var router = nat(.endpointIndependent, .endpointIndependent)
        let port = router.outbound(from: inside, to: a, now: .zero).port
        #expect(router.inbound(to: port, from: a, now: Instant(nanoseconds: 29_000_000_000)) != nil)
        #expect(router.inbound(to: port, from: a, now: Instant(nanoseconds: 58_000_000_000)) != nil, "kept alive")
        #expect(router.inbound(to: port, from: a, now: Instant(nanoseconds: 89_000_000_000)) == nil)
    }
}
