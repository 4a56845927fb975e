import GossipCRDT
import Testing

@testable import MeshCore

/// Enforcement of random access policies over random meshes (peers, clients, an exit, both
/// families): packets are walked through every node's WireGuard sessions (`ForwardingWalk`) and
/// through the relays' and receivers' filters (`AccessFilter.admits`), and what arrives, both
/// ways, must be exactly what the policy allows. With every relay hostile (its filter gone)
/// nothing denied may arrive either. The sessions themselves must never carry a pair the policy
/// keeps apart, and both ends of each must agree it exists.
@Suite struct AccessEnforcementTests {
    static let tags = ["a", "b", "c"].map { AccessTag($0)! }
    /// Flows tried between every pair: ICMP, GRE (only "every protocol" allows it), and TCP
    /// and UDP on ports the random rules use plus one they never name.
    static let flows: [(UInt8, UInt16)] =
        [(1, 0), (47, 0)] + [1, 2, 3, 9000].flatMap { [(UInt8(6), UInt16($0)), (UInt8(17), UInt16($0))] }
    static let outside6 = IPAddress("2001:db8::1")!
    static let outside4 = IPAddress("198.51.100.1")!

    struct Mesh {
        var members: [NodeRecord]
        var topology: MeshTopology
        var walk: ForwardingWalk
        var filters: [WireGuardPublicKey: AccessFilter]
        var exit: WireGuardPublicKey?

        func address(_ key: WireGuardPublicKey, v4: Bool) -> IPAddress {
            v4 ? .v4(topology.ipv4[key]!) : .v6(topology.members[key]!.record.address)
        }

        /// What the policy lets `from` open to `to` (the exit, for addresses beyond it).
        func allows(_ from: WireGuardPublicKey, _ to: WireGuardPublicKey, _ flow: (UInt8, UInt16)) -> Bool {
            let traffic = topology.access.traffic(from: from.nodeID, to: to.nodeID)
            if traffic.anyProtocol { return true }
            switch flow.0 {
            case 1: return traffic.icmp
            case 6: return traffic.tcp.contains(flow.1)
            case 17: return traffic.udp.contains(flow.1)
            default: return false
            }
        }

        /// Whether a flow `from` opens to `destination` arrives at `to` and its answer gets back.
        func delivers(
            _ from: WireGuardPublicKey, _ destination: IPAddress, at to: WireGuardPublicKey, _ flow: (UInt8, UInt16),
            honestRelays: Bool = true
        ) -> Bool {
            let v4 = destination.bitCount == 32
            let source = address(from, v4: v4)
            let forth = walk.trace(from: from, to: destination)
            guard case .delivered(let at, _) = forth.outcome, at == to else { return false }
            var packet = AccessFilter.Packet(
                source: source, destination: destination, protocolNumber: flow.0, port: flow.1, isReply: false)
            let beyond = !topology.meshNetworks.contains { $0.contains(destination) }
            func relays(_ path: [WireGuardPublicKey]) -> Bool {
                !honestRelays || path.dropFirst().dropLast().allSatisfy { filters[$0]!.admits(packet, on: .relay) }
            }
            guard relays(forth.path), filters[to]!.admits(packet, on: beyond ? .outOfMesh : .input) else {
                return false
            }
            packet.isReply = true
            if beyond, !filters[to]!.admits(packet, on: .intoMesh) { return false }
            let back = walk.trace(from: to, to: source, as: destination)
            guard case .delivered(let home, _) = back.outcome, home == from else { return false }
            return relays(back.path) && filters[from]!.admits(packet, on: .input)
        }
    }

    static func randomMesh(seed: UInt64) -> Mesh {
        var builder = TopologyBuilder(seed: seed)
        var rng = SplitMix64(seed: seed &* 0x9E37_79B9 &+ 1)
        var members =
            builder.members(.peer, 1 + Int(rng.next() % 3)) + builder.members(.client, Int(rng.next() % 5))
        var exit: WireGuardPublicKey?
        if rng.next() % 2 == 0 {
            let record = builder.member(
                .peer, routes: [AdvertisedRoute(prefix: .ipv6Default), AdvertisedRoute(prefix: .ipv4Default)])
            members.append(record)
            exit = record.wireGuardKey
        }
        var tags: [NodeID: [AccessTag]] = [:]
        for member in members {
            tags[member.wireGuardKey.nodeID] = Self.tags.filter { _ in rng.next() % 3 == 0 }
        }
        func selector() -> AccessSelector {
            switch rng.next() % 5 {
            case 0: .anyMember
            case 1, 2: .tag(Self.tags[Int(rng.next() % UInt64(Self.tags.count))])
            default: .member(members[Int(rng.next() % UInt64(members.count))].wireGuardKey.nodeID)
            }
        }
        func ports() -> PortSet {
            if rng.next() % 4 == 0 { return .all }
            let first = UInt16(1 + rng.next() % 3)
            return PortSet([first...min(3, first + UInt16(rng.next() % 2))])
        }
        var rules: [AccessRule] = []
        for _ in 0..<(1 + rng.next() % 5) {
            let traffic =
                rng.next() % 5 == 0
                ? AccessTraffic.everything
                : AccessTraffic(
                    icmp: rng.next() % 3 == 0, tcp: rng.next() % 2 == 0 ? ports() : .none,
                    udp: rng.next() % 3 == 0 ? ports() : .none)
            if let rule = AccessRule(from: selector(), to: selector(), traffic: traffic) { rules.append(rule) }
        }
        if rules.isEmpty { rules = [AccessRule(from: selector(), to: selector())!] }
        let topology = MeshTopology(
            mesh: builder.mesh, members: members, ipv4Prefix: TopologyBuilder.ipv4Prefix,
            ipv4: TopologyBuilder.ipv4(members), access: try! AccessPolicy(rules: rules), tags: tags)
        let walk = ForwardingWalk(topology)
        var filters: [WireGuardPublicKey: AccessFilter] = [:]
        for key in topology.members.keys {
            filters[key] = AccessFilter.forNode(key, topology: topology, routing: walk.routing[key]!)!
        }
        return Mesh(members: members, topology: topology, walk: walk, filters: filters, exit: exit)
    }

    @Test(arguments: 0..<60 as Range<UInt64>)
    func exactlyWhatThePolicyAllowsArrivesBothWays(seed: UInt64) {
        let mesh = Self.randomMesh(seed: seed)
        let keys = mesh.members.map(\.wireGuardKey)
        for from in keys {
            for to in keys where to != from {
                for v4 in [false, true] {
                    for flow in Self.flows {
                        let allowed = mesh.allows(from, to, flow)
                        let arrives = mesh.delivers(from, mesh.address(to, v4: v4), at: to, flow)
                        #expect(arrives == allowed, "seed \(seed) \(flow) v4 \(v4): allowed \(allowed)")
                        if !allowed {
                            let hostile = mesh.delivers(
                                from, mesh.address(to, v4: v4), at: to, flow, honestRelays: false)
                            #expect(!hostile, "seed \(seed): a denied flow arrives through a hostile relay")
                        }
                    }
                }
            }
        }
    }

    @Test(arguments: 0..<60 as Range<UInt64>)
    func flowsThroughAnExitAreFlowsToTheExit(seed: UInt64) {
        let mesh = Self.randomMesh(seed: seed)
        guard let exit = mesh.exit else { return }
        for from in mesh.members.map(\.wireGuardKey) where from != exit {
            for destination in [Self.outside6, Self.outside4] {
                for flow in Self.flows {
                    let allowed = mesh.allows(from, exit, flow)
                    #expect(mesh.delivers(from, destination, at: exit, flow) == allowed, "seed \(seed) \(flow)")
                }
            }
        }
    }

    @Test(arguments: 0..<100 as Range<UInt64>)
    func sessionsCarryOnlyPairsThePolicyConnectsAndBothEndsAgree(seed: UInt64) {
        let mesh = Self.randomMesh(seed: seed)
        let topology = mesh.topology
        for (me, routing) in mesh.walk.routing {
            let carried = topology.carried(by: me, sessions: routing.sessions)
            for (other, prefixes) in routing.sessions {
                #expect(!prefixes.isEmpty)
                #expect(
                    mesh.walk.routing[other]?.sessions[me] != nil,
                    "seed \(seed): \(Self.describe(me, in: topology)) has a session with \(Self.describe(other, in: topology)) carrying \(prefixes), which the other end lacks"
                )
                for prefix in prefixes {
                    guard let owner = topology.hosts[prefix] else { continue }
                    #expect(carried.contains { topology.mayConnect($0, owner) }, "seed \(seed)")
                    // A node that carries nobody else's traffic carries only its own pairs.
                    if carried.count == 1 { #expect(topology.mayConnect(me, owner)) }
                }
            }
        }
    }

    static func describe(_ key: WireGuardPublicKey, in topology: MeshTopology) -> String {
        let member = topology.members[key]!
        var text = "\(member.isPeer ? "peer" : "client") \(member.record.address)"
        if let attachment = topology.attachments[key] {
            text += " (attached to \(topology.members[attachment]!.record.address))"
        }
        if !member.record.routes.isEmpty { text += " (exit)" }
        return text
    }

    @Test func aPairOfPeersWithoutAnyRuleBetweenThemHasNoSession() throws {
        var builder = TopologyBuilder(seed: 5)
        let peers = builder.members(.peer, 3)
        let (x, y, z) = (peers[0].wireGuardKey, peers[1].wireGuardKey, peers[2].wireGuardKey)
        let policy = try AccessPolicy(rules: [
            AccessRule(from: .member(x.nodeID), to: .member(y.nodeID), traffic: AccessTraffic(tcp: PortSet([22...22])))!
        ])
        let topology = MeshTopology(mesh: builder.mesh, members: peers, access: policy)
        #expect(Set(topology.routing(for: x).sessions.keys) == [y])
        #expect(Set(topology.routing(for: y).sessions.keys) == [x])
        #expect(topology.routing(for: z).sessions.isEmpty)
        // Without a policy, the full mesh of peers as always.
        let open = MeshTopology(mesh: builder.mesh, members: peers)
        #expect(open.routing(for: z).sessions.count == 2)
        #expect(AccessFilter.forNode(z, topology: open, routing: open.routing(for: z)) == nil)
    }

    @Test func aRouteToAnExitTheMemberMayNotUseIsNotInstalled() throws {
        var builder = TopologyBuilder(seed: 9)
        let exit = builder.member(.peer, routes: [AdvertisedRoute(prefix: .ipv6Default)])
        let user = builder.member(.peer)
        let other = builder.member(.peer)
        let policy = try AccessPolicy(rules: [
            AccessRule(from: .member(user.wireGuardKey.nodeID), to: .member(exit.wireGuardKey.nodeID))!,
            AccessRule(from: .anyMember, to: .member(user.wireGuardKey.nodeID))!,
        ])
        let topology = MeshTopology(mesh: builder.mesh, members: [exit, user, other], access: policy)
        #expect(topology.routing(for: user.wireGuardKey).routes == [.ipv6Default])
        #expect(topology.routing(for: other.wireGuardKey).routes.isEmpty)
    }

    /// The gate answers as the policy does, for policies of more than one word of rules too.
    @Test func theGateAgreesWithThePolicy() throws {
        var rng = SplitMix64(seed: 3)
        for _ in 0..<200 {
            let c = AccessPolicyPropertyTests.randomCase(&rng)
            var rules = c.policy.rules
            if rng.next() % 2 == 0 {
                // Past 64 and 128 rules: the later ones decide.
                let filler = AccessRule(from: .tag(AccessTag("zz")!), to: .anyMember)!
                rules = Array(repeating: filler, count: 64 + Int(rng.next() % 100)) + rules
            }
            let policy = try AccessPolicy(rules: rules)
            var tags: [NodeID: [AccessTag]] = [:]
            for member in c.members { tags[member.id] = Array(member.tags) }
            let gate = AccessGate(policy: policy, tags: tags, members: c.members.dropLast().map(\.id))
            for a in c.members {
                for b in c.members {
                    #expect(gate.mayConnect(a.id, b.id) == policy.mayConnect(a, b))
                    #expect(gate.traffic(from: a.id, to: b.id) == policy.traffic(from: a, to: b))
                }
            }
        }
    }

    @Test func theScriptHasOneChainPerKindOfTrafficAndMapsByAddress() throws {
        var filter = AccessFilter()
        let ssh = AccessTraffic(icmp: true, tcp: PortSet([22...22, 8000...8100]))
        filter.opened = [IPAddress("fd00::1")!: ssh, IPAddress("100.80.0.1")!: ssh, IPAddress("fd00::2")!: .everything]
        filter.relayed = [AccessFilter.Pair(IPAddress("fd00::1")!, IPAddress("fd00::2")!): .everything]
        filter.gossip = [AccessFilter.Service(IPAddress("fd00::1")!, 51900)]
        filter.meshNetworks = [IPPrefix("fd00::/64")!]
        let script = filter.script(interface: "smeg1").joined(separator: "\n")
        #expect(script.contains("meta l4proto tcp ct original proto-dst { 22, 8000-8100 } accept"))
        #expect(script.contains("meta l4proto { icmp, ipv6-icmp } accept"))
        #expect(script.contains("elements = { 100.80.0.1 : jump allow_0 }"))
        #expect(script.contains("fd00::1 . fd00::2 : jump allow_1"))
        #expect(script.contains("ct direction original meta nfproto ipv6 ct original ip6 saddr vmap @opened6"))
        // No IPv4 mesh network here: IPv4 answers and relayed IPv4 have no member to check.
        #expect(script.contains("ct direction reply meta nfproto ipv4 accept"))
        #expect(script.contains("meta nfproto ipv6 ct original ip6 daddr != fd00::/64 accept"))
        #expect(!script.contains("answered"))
        #expect(filter.trafficClasses.count == 2)
    }
}
