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
            let (sent, effects) = core.ping(key, now: now)
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
}
