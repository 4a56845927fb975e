import GossipCRDT
import Testing

@testable import MeshCore
@testable import smegd

/// Direct paths between clients behind NATs of every kind, in the in-process harness: the two
/// ends learn where their peers see them, publish it, consent and punch with the real node
/// cores, over NATs that map and filter as RFC 4787 describes and a WireGuard that answers only
/// what reaches it. Whether a pair ends up direct is what the NATs let through, not a canned
/// answer.
@Suite struct DirectPathHarnessTests {
    typealias Behaviour = SimulatedNAT.Behaviour

    static let kinds: [(String, Behaviour)] = [
        (
            "port-preserving",
            .init(mapping: .endpointIndependent, filtering: .addressAndPortDependent, preservesPorts: true)
        ),
        ("full cone", .init(mapping: .endpointIndependent, filtering: .endpointIndependent)),
        ("restricted cone", .init(mapping: .endpointIndependent, filtering: .addressDependent)),
        ("port-restricted cone", .init(mapping: .endpointIndependent, filtering: .addressAndPortDependent)),
        ("symmetric", .init(mapping: .addressAndPortDependent, filtering: .addressAndPortDependent)),
    ]

    /// What RFC 4787's rules allow, worked out by hand: a pair punches through unless a
    /// symmetric NAT (a new port per destination, so the reflexive endpoint its peer saw is not
    /// where its packets to the other come from) faces a NAT that filters by port, or another
    /// symmetric one. Against a NAT that filters by address only, the symmetric side's packets
    /// come from the address the other end sent to, and pass.
    static func expectsDirect(_ a: Behaviour, _ b: Behaviour) -> Bool {
        func symmetric(_ nat: Behaviour) -> Bool { nat.mapping == .addressAndPortDependent }
        if symmetric(a) && symmetric(b) { return false }
        if symmetric(a) { return b.filtering != .addressAndPortDependent }
        if symmetric(b) { return a.filtering != .addressAndPortDependent }
        return true
    }

    /// Three peers, and two clients behind NATs of the given kinds; the time from the second
    /// client's start.
    static func lab(_ a: Behaviour, _ b: Behaviour, sameNAT: Bool = false) throws -> (SimulatedMesh, Int, Int) {
        var net = SimulatedMesh()
        for _ in 0..<3 { try net.add() }
        #expect(net.time(until: .seconds(5)) { $0.agree([0, 1, 2]) } != nil)
        let first = try net.add(role: .client, behind: a)
        #expect(net.time(until: .seconds(5)) { $0.agree([0, 1, 2, 3]) } != nil)
        let second = sameNAT ? try net.add(role: .client, sharingNATOf: first) : try net.add(role: .client, behind: b)
        return (net, first, second)
    }

    static func kind(_ net: SimulatedMesh, _ from: Int, _ to: Int) -> String {
        net.nodes[from].core.pathView(
            of: WireGuardPublicKey(nodeID: net.nodes[to].identity.nodeID), now: net.clock(from)
        )
        .kind
    }

    static func direct(_ net: SimulatedMesh, _ a: Int, _ b: Int) -> Bool {
        kind(net, a, b) == "direct" && kind(net, b, a) == "direct"
    }

    /// A probe over the overlay from `from` to `to` and back (`smegctl ping`), within a second.
    static func pings(_ net: inout SimulatedMesh, _ from: Int, _ to: Int) -> Bool {
        let key = WireGuardPublicKey(nodeID: net.nodes[to].identity.nodeID)
        var nonce: UInt64 = 0
        try? net.act(from) { core, _, now in
            guard let (sent, effects) = core.ping(key, now: now) else { return [] }
            nonce = sent
            return effects
        }
        net.run(for: .seconds(1))
        return net.nodes[from].pings[nonce] != nil
    }

    @Test(arguments: 0..<5, 0..<5)
    func everyPairOfNATKindsPunchesOrRelaysAsTheRulesSay(first: Int, second: Int) throws {
        let (nameA, a) = Self.kinds[first]
        let (nameB, b) = Self.kinds[second]
        var (net, x, y) = try Self.lab(a, b)
        let direct = net.time(until: .seconds(20)) { Self.direct($0, x, y) }
        let expected = Self.expectsDirect(a, b)
        let pair = "\(nameA) and \(nameB)"
        if expected {
            #expect(direct.map { $0 <= .seconds(5) } ?? false, "\(pair): direct after \(String(describing: direct))")
            let endpoint = net.nodes[x].core.pathView(
                of: WireGuardPublicKey(nodeID: net.nodes[y].identity.nodeID), now: net.clock(x)
            ).endpoint
            #expect(
                endpoint?.hasPrefix("203.0.113.") == true,
                "\(pair): the other's NAT, not a relay: \(endpoint ?? "none")")
        } else {
            #expect(direct == nil, "\(pair): a direct path the NATs should not allow")
            let view = net.nodes[x].core.pathView(
                of: WireGuardPublicKey(nodeID: net.nodes[y].identity.nodeID), now: net.clock(x))
            #expect(["relayed", "punching"].contains(view.kind))
        }
        net.run(for: .seconds(2))
        #expect(Self.pings(&net, x, y) && Self.pings(&net, y, x), "\(pair): no ping between the clients")
        print(
            "Direct paths harness, clients behind \(pair) NATs: "
                + (direct.map { "direct after \($0.seconds) s" }
                    ?? "relayed (\(net.nodes[x].core.pathView(of: WireGuardPublicKey(nodeID: net.nodes[y].identity.nodeID), now: net.clock(x)).reason ?? "no reason"))")
                + " (virtual time from the second client's start)")
    }

    static let cone = kinds[0].1

    static func key(_ net: SimulatedMesh, _ index: Int) -> WireGuardPublicKey {
        WireGuardPublicKey(nodeID: net.nodes[index].identity.nodeID)
    }

    static func view(_ net: SimulatedMesh, _ from: Int, _ to: Int) -> PathView {
        net.nodes[from].core.pathView(of: key(net, to), now: net.clock(from))
    }

    /// Two laptops behind one home router: they find each other's LAN addresses (they share
    /// a reflexive address) and talk over the LAN, not through the router's public address.
    @Test func twoClientsBehindOneNATTalkOverTheirLAN() throws {
        var (net, x, y) = try Self.lab(Self.cone, Self.cone, sameNAT: true)
        let direct = net.time(until: .seconds(10)) { Self.direct($0, x, y) }
        #expect(direct.map { $0 <= .seconds(5) } ?? false, "direct after \(String(describing: direct))")
        let endpoint = Self.view(net, x, y).endpoint
        #expect(endpoint == "\(net.nodes[y].lan):\(SimulatedMesh.wireGuardPort)", "over the LAN: \(endpoint ?? "none")")
        #expect(Self.pings(&net, x, y))
        print(
            "Direct paths harness, two clients behind one NAT: direct over the LAN after \(direct.map { "\($0.seconds) s" } ?? "never")"
        )
    }

    /// A pair's addresses move to the direct session only once both ends saw a handshake on
    /// it: at every step, a node that routes the other's address into their own session holds
    /// a completed handshake with it, and the other end has said it has one too.
    @Test func addressesMoveOnlyAfterBothEndsHandshook() throws {
        var (net, x, y) = try Self.lab(Self.cone, Self.cone)
        var moved = false
        for _ in 0..<100 {
            net.run(for: .milliseconds(50))
            for (a, b) in [(x, y), (y, x)] {
                let address = IPNet(address: net.nodes[b].identity.address(in: net.mesh).bytes, prefixLength: 128)!
                let carries =
                    net.nodes[a].desired?.device.peers.contains {
                        $0.publicKey == net.nodes[b].key && $0.allowedIPs.contains(address)
                    } ?? false
                guard carries else { continue }
                moved = true
                #expect(net.nodes[a].wireGuard.isUp(net.nodes[b].key), "routes before its own handshake")
                #expect(
                    net.nodes[a].core.paths.direct.pairs[Self.key(net, b)]?.theirs?.handshook == true,
                    "routes before the other end said it handshook")
            }
        }
        #expect(moved, "never went direct")
    }

    /// The direct path breaks (UDP between the two NATs dropped) while the two ping each other
    /// every 0.2 s: they are back on the relay within 10 s and the pings go on; when the break
    /// ends, the path comes back after the backoff.
    @Test func aBrokenDirectPathFallsBackToTheRelayAndComesBack() throws {
        var (net, x, y) = try Self.lab(Self.cone, Self.cone)
        #expect(net.time(until: .seconds(10)) { Self.direct($0, x, y) } != nil)
        net.cutWireGuard = { a, b in Set([a, b]) == Set([x, y]) }
        let broke = net.now
        var relayed: Duration?
        var lastReply = net.now
        var longestGap = Duration.zero
        while net.now.since(broke) < .seconds(20) {
            let key = Self.key(net, y)
            var nonce: UInt64 = 0
            try net.act(x) { core, _, now in
                guard let (sent, effects) = core.ping(key, now: now) else { return [] }
                nonce = sent
                return effects
            }
            net.run(for: .milliseconds(200))
            if net.nodes[x].pings[nonce] != nil {
                longestGap = max(longestGap, net.now.since(lastReply))
                lastReply = net.now
            }
            if relayed == nil, Self.kind(net, x, y) != "direct", Self.kind(net, y, x) != "direct" {
                relayed = net.now.since(broke)
            }
        }
        longestGap = max(longestGap, net.now.since(lastReply))
        #expect(relayed.map { $0 <= .seconds(10) } ?? false, "back on the relay after \(String(describing: relayed))")
        #expect(longestGap <= .seconds(10), "pings stopped for \(longestGap)")
        #expect(Self.view(net, x, y).reason != nil, "a relayed pair says why")
        net.cutWireGuard = { _, _ in false }
        let healed = net.now
        let back = net.time(until: .seconds(120)) { Self.direct($0, x, y) }
        #expect(back != nil, "the direct path did not come back")
        print(
            "Direct paths harness, direct path broken: relayed after \(relayed.map { "\($0.seconds) s" } ?? "never"), "
                + "longest gap in pings \(longestGap.seconds) s; direct again \(back.map { "\($0.seconds) s" } ?? "never") "
                + "after the break ended (backoff)")
        _ = healed
    }

    /// The laptop's network changed: its direct paths go back to their relays at once, and
    /// it punches again from where it is now.
    @Test func aNetworkChangeDropsDirectPathsUntilProvenAgain() throws {
        var (net, x, y) = try Self.lab(Self.cone, Self.cone)
        #expect(net.time(until: .seconds(10)) { Self.direct($0, x, y) } != nil)
        net.moveBehindNewNAT(x)
        net.networkChanged(x)
        #expect(Self.kind(net, x, y) != "direct", "still direct after the network changed")
        let again = net.time(until: .seconds(15)) { Self.direct($0, x, y) }
        #expect(again.map { $0 <= .seconds(8) } ?? false, "direct again after \(String(describing: again))")
        let endpoint = Self.view(net, y, x).endpoint
        #expect(
            endpoint?.hasPrefix("203.0.113.1") == true && endpoint?.hasPrefix("203.0.113.1:") == false,
            "the other end sends to the new NAT: \(endpoint ?? "none")")
        print("Direct paths harness, network change: direct again after \(again.map { "\($0.seconds) s" } ?? "never")")
    }

    /// No reflection: a member whose record names someone else's address as a candidate gets
    /// the mesh to send that address only a few handshakes per attempt, attempts backing off;
    /// five minutes of it stay a trickle.
    @Test func aCandidateNamingAVictimGetsOnlyAFewHandshakes() throws {
        var (net, x, y) = try Self.lab(Self.cone, Self.cone)
        let victim = PeerAddress(ip: IPAddress("198.51.100.7")!, port: SimulatedMesh.wireGuardPort)
        net.watched = victim
        // y publishes the victim's address as one of its own, and nothing else reaches it.
        net.cutWireGuard = { a, b in Set([a, b]) == Set([x, y]) }
        try net.act(y) { core, wall, now in
            core.networkChanged(
                hostEndpoints: [Endpoint("198.51.100.7:51820")!], what: "test", now: now, wallMillis: wall)
        }
        net.run(for: .seconds(300))
        #expect(net.watchedCount > 0, "the candidate was never tried: the test tests nothing")
        #expect(net.watchedCount <= 24, "\(net.watchedCount) datagrams to the victim in 5 minutes")
        print("Direct paths harness, a candidate naming a victim: \(net.watchedCount) datagrams to it in 5 minutes")
    }

    /// What direct paths cost an idle mesh: three peers and four clients behind NATs, ten
    /// minutes of nothing, with and without them (`directPaths`). Printed for docs/routing.md.
    /// A direct pair costs each end a 32-byte keepalive every 25 s and a handshake every two
    /// minutes (about 4 B/s with headers), and the where-am-i question once a minute about
    /// 2 B/s: the bar is 8 B/s per pair and 2 B/s.
    @Test func theIdleCostOfDirectPaths() throws {
        var perClient: [Bool: Double] = [:]
        for enabled in [false, true] {
            var net = SimulatedMesh()
            net.config.directPaths = enabled
            for _ in 0..<3 { try net.add() }
            #expect(net.time(until: .seconds(5)) { $0.agree([0, 1, 2]) } != nil)
            var clients: [Int] = []
            for _ in 0..<4 { clients.append(try net.add(role: .client, behind: Self.cone)) }
            #expect(net.time(until: .seconds(10)) { $0.agree(Array(0..<7)) } != nil)
            net.run(for: .seconds(60))
            if enabled {
                for a in clients {
                    for b in clients where a < b { #expect(Self.direct(net, a, b), "\(a)-\(b) not direct") }
                }
            }
            let before = clients.map { net.sentBytes[$0] ?? 0 }.reduce(0, +)
            net.run(for: .seconds(600))
            let after = clients.map { net.sentBytes[$0] ?? 0 }.reduce(0, +)
            perClient[enabled] = Double(after - before) / 600 / Double(clients.count)
        }
        let extra = perClient[true]! - perClient[false]!
        print(
            "Direct paths harness, idle cost per client (3 peers, 4 clients, 10 min): "
                + "\(Int(perClient[false]!)) B/s relayed only, \(Int(perClient[true]!)) B/s with direct paths "
                + "(\(Int(extra)) B/s more for 3 direct pairs each)")
        #expect(extra <= 3 * 8 + 2, "direct paths cost \(extra) B/s more per client")
    }
}
