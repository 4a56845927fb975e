import GossipCRDT
import Testing

@testable import MeshCore

/// Members with keys drawn from a seeded generator: the tests are deterministic, and the keys
/// are as uniform as real ones (rendezvous weights depend on nothing else).
struct TopologyBuilder {
    let mesh = Fixtures.mesh1
    var rng: SplitMix64

    init(seed: UInt64) {
        rng = SplitMix64(seed: seed)
    }

    mutating func member(_ role: NodeRecord.Role, routes: [AdvertisedRoute] = []) -> NodeRecord {
        var bytes: [UInt8] = []
        for _ in 0..<4 { withUnsafeBytes(of: rng.next()) { bytes += $0 } }
        let key = WireGuardPublicKey(uncheckedBytes: bytes)
        return NodeRecord(
            wireGuardKey: key, signingKey: SigningPublicKey(uncheckedBytes: bytes),
            address: OverlayAddress.derive(mesh: mesh, wireGuardKey: key),
            endpoints: role == .peer ? [Endpoint("192.0.2.\(bytes[0] % 200 + 1):51820")!] : [], wireGuardPort: 51820,
            gossipPort: 51900, role: role, routes: routes, version: 1)
    }

    mutating func members(_ role: NodeRecord.Role, _ count: Int, routes: [AdvertisedRoute] = []) -> [NodeRecord] {
        (0..<count).map { _ in member(role, routes: routes) }
    }

    /// The mesh's IPv4 network in the IPv4 tests.
    static let ipv4Prefix = IPPrefix("100.80.0.0/16")!

    /// IPv4 overlay addresses in `ipv4Prefix`, one per member in order, skipping `without`
    /// (members whose address is not assigned yet).
    static func ipv4(
        _ members: [NodeRecord], without: Set<WireGuardPublicKey> = []
    ) -> [WireGuardPublicKey: IPv4Address] {
        var addresses: [WireGuardPublicKey: IPv4Address] = [:]
        for (index, member) in members.enumerated() where !without.contains(member.wireGuardKey) {
            addresses[member.wireGuardKey] = IPv4Address(0x6450_0000 + UInt32(index + 1))  // 100.80.x.y
        }
        return addresses
    }

    func topology(_ members: [NodeRecord], ipv4 without: Set<WireGuardPublicKey>? = nil) -> MeshTopology {
        guard let without else { return MeshTopology(mesh: mesh, members: members) }
        return MeshTopology(
            mesh: mesh, members: members, ipv4Prefix: Self.ipv4Prefix, ipv4: Self.ipv4(members, without: without))
    }
}

/// Walks packets through every node's computed WireGuard sessions, the way WireGuard's
/// cryptokey routing would: the sender picks the session whose AllowedIPs match the destination
/// most specifically, and the receiver accepts the packet only if the source's most specific
/// AllowedIP belongs to the session it arrived on.
struct ForwardingWalk {
    let topology: MeshTopology
    let routing: [WireGuardPublicKey: NodeRouting]

    init(_ topology: MeshTopology) {
        self.topology = topology
        var routing: [WireGuardPublicKey: NodeRouting] = [:]
        for key in topology.members.keys { routing[key] = topology.routing(for: key) }
        self.routing = routing
    }

    enum Outcome: Equatable {
        case delivered(to: WireGuardPublicKey, hops: Int)
        case dropped(String)

        var isDelivered: Bool {
            if case .delivered = self { return true }
            return false
        }
    }

    /// Sends from `source` (its overlay address) to `destination`, delivered at the member
    /// that owns the address or advertises a prefix containing it.
    /// `sourceAddress` defaults to the sender's overlay address; replies from an advertised
    /// prefix pass an address inside it.
    /// An IPv4 destination is sent from the sender's IPv4 overlay address, which it must have.
    func send(from source: WireGuardPublicKey, to destination: IPAddress, as sourceAddress: IPAddress? = nil) -> Outcome
    {
        trace(from: source, to: destination, as: sourceAddress).outcome
    }

    /// `send`, with the members the packet went through, the sender first and, when it was
    /// delivered, the receiver last.
    func trace(
        from source: WireGuardPublicKey, to destination: IPAddress, as sourceAddress: IPAddress? = nil
    ) -> (path: [WireGuardPublicKey], outcome: Outcome) {
        let own: IPAddress
        if case .v4 = destination {
            guard let address = topology.ipv4[source] else {
                return ([source], .dropped("\(source) has no IPv4 address"))
            }
            own = .v4(address)
        } else {
            own = .v6(topology.members[source]!.record.address)
        }
        let sourceAddress = sourceAddress ?? own
        var at = source
        var path = [source]
        for hops in 0...8 {
            if owns(at, destination) { return (path, .delivered(to: at, hops: hops)) }
            guard let next = bestSession(of: at, for: destination)?.key else {
                return (path, .dropped("\(at) has no session for \(destination)"))
            }
            // WireGuard's check: the source's most specific AllowedIP must be on this session.
            guard bestSession(of: next, for: sourceAddress)?.key == at else {
                return (path, .dropped("\(next) does not accept source \(sourceAddress) from \(at)"))
            }
            at = next
            path.append(at)
        }
        return (path, .dropped("loop"))
    }

    /// Delivered at the owner of the address, or at an advertiser of a prefix containing it
    /// unless one of its sessions matches more specifically (an exit's `::/0` does not swallow
    /// the members' addresses: the kernel's longest match sends those back into the mesh).
    private func owns(_ key: WireGuardPublicKey, _ destination: IPAddress) -> Bool {
        let record = topology.members[key]!.record
        if destination == .v6(record.address) { return true }
        if let ipv4 = topology.ipv4[key], destination == .v4(ipv4) { return true }
        guard let local = record.routes.filter({ $0.prefix.contains(destination) }).map(\.prefix.length).max() else {
            return false
        }
        return (bestSession(of: key, for: destination)?.length ?? -1) < local
    }

    private func bestSession(
        of key: WireGuardPublicKey, for destination: IPAddress
    ) -> (
        length: Int, key: WireGuardPublicKey
    )? {
        var best: (length: Int, key: WireGuardPublicKey)?
        for (peer, prefixes) in routing[key]?.sessions ?? [:] {
            for prefix in prefixes where prefix.contains(destination) {
                if best == nil || prefix.length > best!.length { best = (prefix.length, peer) }
            }
        }
        return best
    }
}

/// Every member reaches every other, both ways, in at most three WireGuard hops; with `ipv4`,
/// at their IPv4 addresses (members that have one) instead of their IPv6 ones.
func expectAllPairsReach(_ walk: ForwardingWalk, _ members: [NodeRecord], ipv4: Bool = false) {
    let members = ipv4 ? members.filter { walk.topology.ipv4[$0.wireGuardKey] != nil } : members
    for source in members {
        for destination in members where destination.wireGuardKey != source.wireGuardKey {
            let address: IPAddress =
                ipv4 ? .v4(walk.topology.ipv4[destination.wireGuardKey]!) : .v6(destination.address)
            let outcome = walk.send(from: source.wireGuardKey, to: address)
            guard case .delivered(let at, let hops) = outcome else {
                Issue.record("\(source.role) -> \(destination.role): \(outcome)")
                continue
            }
            #expect(at == destination.wireGuardKey)
            // peer-peer 1; via one peer 2; client-peer-peer-client 3.
            #expect(hops <= 3)
        }
    }
}

@Suite struct MeshTopologyTests {
    let lan = AdvertisedRoute(
        prefix: IPPrefix(containing: .v6(Fixtures.mesh1.sitePrefixAddress(subnet: 9)), length: 64)!)

    @Test func everyClientAttachesToItsHighestWeightPeer() {
        var builder = TopologyBuilder(seed: 1)
        let peers = builder.members(.peer, 7)
        let clients = builder.members(.client, 50)
        let topology = MeshTopology(mesh: builder.mesh, members: peers + clients)
        for client in clients {
            let chooser = Rendezvous.word(of: client.wireGuardKey)
            let expected = peers.max {
                let left = Rendezvous.weight(
                    chooser: chooser, candidate: Rendezvous.word(of: $0.wireGuardKey), purpose: .attachment)
                let right = Rendezvous.weight(
                    chooser: chooser, candidate: Rendezvous.word(of: $1.wireGuardKey), purpose: .attachment)
                return left < right
            }!
            #expect(topology.attachments[client.wireGuardKey] == expected.wireGuardKey)
        }
        #expect(topology.peers == peers.map(\.wireGuardKey).sorted())
    }

    @Test func addingAPeerMovesAboutOneInPClientsAndOnlyToIt() {
        var builder = TopologyBuilder(seed: 2)
        let peers = builder.members(.peer, 9)
        let clients = builder.members(.client, 2000)
        let newcomer = builder.member(.peer)
        let before = MeshTopology(mesh: builder.mesh, members: peers + clients)
        let after = MeshTopology(mesh: builder.mesh, members: peers + [newcomer] + clients)
        var moved = 0
        for client in clients where before.attachments[client.wireGuardKey] != after.attachments[client.wireGuardKey] {
            moved += 1
            #expect(after.attachments[client.wireGuardKey] == newcomer.wireGuardKey)
        }
        // Expected 2000/10 = 200; a binomial standard deviation is ~13.
        #expect((140...260).contains(moved), "moved \(moved) of 2000 clients")
    }

    @Test func removingAPeerMovesOnlyItsClients() {
        var builder = TopologyBuilder(seed: 3)
        let peers = builder.members(.peer, 6)
        let clients = builder.members(.client, 600)
        let before = MeshTopology(mesh: builder.mesh, members: peers + clients)
        let dead = peers[2].wireGuardKey
        let after = MeshTopology(mesh: builder.mesh, members: peers.filter { $0.wireGuardKey != dead } + clients)
        var orphans = 0
        for client in clients {
            let old = before.attachments[client.wireGuardKey]!
            let new = after.attachments[client.wireGuardKey]!
            #expect(new != dead)
            if old == dead { orphans += 1 } else { #expect(new == old) }
        }
        #expect(orphans > 50, "the removed peer had \(orphans) clients")
    }

    @Test func clientsHaveNoAttachmentWithoutPeers() {
        var builder = TopologyBuilder(seed: 4)
        let clients = builder.members(.client, 3)
        let topology = MeshTopology(mesh: builder.mesh, members: clients)
        #expect(topology.attachments.isEmpty)
        #expect(topology.routing(for: clients[0].wireGuardKey).sessions.isEmpty)
    }

    @Test(arguments: [(5, 0), (1, 4), (3, 12), (6, 40)])
    func everyMemberReachesEveryOtherAndBack(peerCount: Int, clientCount: Int) {
        var builder = TopologyBuilder(seed: UInt64(peerCount * 100 + clientCount))
        let members = builder.members(.peer, peerCount) + builder.members(.client, clientCount)
        expectAllPairsReach(ForwardingWalk(MeshTopology(mesh: builder.mesh, members: members)), members)
    }

    /// Exits and bridges give clients direct sessions besides their attachment; members must
    /// still reach each other both ways, whichever session a packet comes back on.
    @Test(arguments: [1, 2, 3])
    func everyMemberStillReachesEveryOtherWithExits(seed: UInt64) {
        var builder = TopologyBuilder(seed: 100 + seed)
        let exits = builder.members(.peer, 2, routes: [AdvertisedRoute(prefix: .ipv6Default)])
        let bridge = builder.member(.peer, routes: [lan])
        let members = exits + [bridge] + builder.members(.peer, 2) + builder.members(.client, 12)
        let walk = ForwardingWalk(MeshTopology(mesh: builder.mesh, members: members))
        expectAllPairsReach(walk, members)
        for source in members {
            let internet = IPAddress.v6(IPv6Address("2001:db8::1")!)
            if case .delivered(let at, _) = walk.send(from: source.wireGuardKey, to: internet) {
                #expect(exits.contains { $0.wireGuardKey == at } || source.routes.contains { $0.prefix.isDefaultRoute })
                let reply = walk.send(from: at, to: .v6(source.address), as: internet)
                #expect(reply.isDelivered, "the internet's reply to a \(source.role): \(reply)")
            } else if !exits.contains(where: { $0.wireGuardKey == source.wireGuardKey }) {
                Issue.record("a \(source.role) does not reach the internet")
            }
        }
    }

    @Test func sessionsAreSymmetricAndAllowedIPsUniquePerNode() {
        var builder = TopologyBuilder(seed: 5)
        let exits = builder.members(.peer, 2, routes: [lan])
        let members =
            builder.members(.peer, 4) + exits + builder.members(.client, 30)
            + [builder.member(.client, routes: [AdvertisedRoute(prefix: IPPrefix("10.42.0.0/16")!)])]
        let walk = ForwardingWalk(MeshTopology(mesh: builder.mesh, members: members))
        for (key, routing) in walk.routing {
            for peer in routing.sessions.keys {
                #expect(walk.routing[peer]?.sessions[key] != nil, "a session with no other end")
            }
            let all = routing.sessions.values.flatMap { $0 }
            #expect(Set(all).count == all.count, "an AllowedIP in two sessions")
        }
    }

    @Test func equalExitsSplitClientsAndPeersAndAllMoveWhenOneDies() {
        var builder = TopologyBuilder(seed: 6)
        let exits = builder.members(.peer, 2, routes: [lan])
        let peers = builder.members(.peer, 20)
        let clients = builder.members(.client, 200)
        let topology = MeshTopology(mesh: builder.mesh, members: exits + peers + clients)
        var counts: [WireGuardPublicKey: Int] = [:]
        for chooser in peers + clients {
            let exit = topology.exit(for: lan.prefix, chooser: chooser.wireGuardKey)
            #expect(exit == exits[0].wireGuardKey || exit == exits[1].wireGuardKey)
            counts[exit!, default: 0] += 1
        }
        for exit in exits { #expect(counts[exit.wireGuardKey, default: 0] > 70, "\(counts.values)") }

        let walk = ForwardingWalk(topology)
        let target = IPAddress.v6(IPv6Address(high: Fixtures.mesh1.sitePrefixAddress(subnet: 9).high, low: 1))
        for chooser in peers + clients {
            let outcome = walk.send(from: chooser.wireGuardKey, to: target)
            let exit = topology.exit(for: lan.prefix, chooser: chooser.wireGuardKey)!
            #expect(outcome == .delivered(to: exit, hops: 1))
            #expect(
                walk.send(from: exit, to: .v6(chooser.address), as: target)
                    == .delivered(to: chooser.wireGuardKey, hops: 1))
        }

        let survivor = MeshTopology(mesh: builder.mesh, members: [exits[1]] + peers + clients)
        for chooser in peers + clients {
            #expect(survivor.exit(for: lan.prefix, chooser: chooser.wireGuardKey) == exits[1].wireGuardKey)
        }
    }

    @Test func theShortestPathWins() {
        var builder = TopologyBuilder(seed: 7)
        let near = builder.member(.peer, routes: [lan])
        let far = builder.member(.peer, routes: [AdvertisedRoute(prefix: lan.prefix, path: [Fixtures.mesh2])])
        let others = builder.members(.peer, 5) + builder.members(.client, 10)
        let topology = MeshTopology(mesh: builder.mesh, members: [near, far] + others)
        #expect(topology.advertisers(of: lan.prefix) == [near.wireGuardKey])
        for chooser in others {
            #expect(topology.exit(for: lan.prefix, chooser: chooser.wireGuardKey) == near.wireGuardKey)
        }
        // The farther advertiser still routes the prefix itself, never into the mesh.
        #expect(!topology.routing(for: far.wireGuardKey).routes.contains(lan.prefix))
    }

    @Test func prefixesOnlyClientsAdvertiseGoThroughTheirPeersWithoutLoops() {
        var builder = TopologyBuilder(seed: 8)
        let members =
            builder.members(.peer, 5) + builder.members(.client, 6, routes: [lan]) + builder.members(.client, 20)
        let topology = MeshTopology(mesh: builder.mesh, members: members)
        let walk = ForwardingWalk(topology)
        let target = IPAddress.v6(IPv6Address(high: Fixtures.mesh1.sitePrefixAddress(subnet: 9).high, low: 7))
        let advertisers = Set(topology.advertisers(of: lan.prefix))
        for source in members where !advertisers.contains(source.wireGuardKey) {
            let outcome = walk.send(from: source.wireGuardKey, to: target)
            guard case .delivered(let at, let hops) = outcome else {
                Issue.record("\(source.role): \(outcome)")
                continue
            }
            #expect(advertisers.contains(at))
            #expect(hops <= 3)
            let reply = walk.send(from: at, to: .v6(source.address), as: target)
            #expect(reply == .delivered(to: source.wireGuardKey, hops: hops), "reply to \(source.role)")
        }
    }

    @Test func forwardingIsNeededOnlyByRelaysAndAdvertisers() {
        var builder = TopologyBuilder(seed: 9)
        let exit = builder.member(.peer, routes: [AdvertisedRoute(prefix: IPPrefix("10.42.0.0/16")!)])
        let peers = builder.members(.peer, 3)
        let topology = MeshTopology(mesh: builder.mesh, members: [exit] + peers)
        #expect(topology.routing(for: exit.wireGuardKey).forwards)
        #expect(topology.routing(for: exit.wireGuardKey).forwardsIPv4)
        for peer in peers { #expect(!topology.routing(for: peer.wireGuardKey).forwards) }
        let client = builder.member(.client)
        let withClient = MeshTopology(mesh: builder.mesh, members: [exit] + peers + [client])
        let relay = withClient.attachments[client.wireGuardKey]!
        #expect(withClient.routing(for: relay).forwards)
        #expect(!withClient.routing(for: client.wireGuardKey).forwards)
    }

    // MARK: IPv4

    static let internet4 = IPAddress.v4(IPv4Address("198.51.100.1")!)
    static let internet6 = IPAddress.v6(IPv6Address("2001:db8::1")!)

    /// Members with IPv4 addresses reach each other's over the same sessions as IPv6: each /32
    /// beside its /128, a client's attachment carrying the mesh's IPv4 network beside the /64.
    @Test(arguments: [(5, 0), (1, 4), (3, 12), (6, 40)])
    func everyMemberReachesEveryOtherOverIPv4(peerCount: Int, clientCount: Int) {
        var builder = TopologyBuilder(seed: UInt64(peerCount * 100 + clientCount + 7))
        let members = builder.members(.peer, peerCount) + builder.members(.client, clientCount)
        let walk = ForwardingWalk(builder.topology(members, ipv4: []))
        expectAllPairsReach(walk, members, ipv4: true)
        expectAllPairsReach(walk, members)
    }

    /// Exits for both families (two of each, so choosers split), a LAN bridge, clients that talk
    /// to exits directly, and one peer and one client whose IPv4 address is not assigned yet:
    /// every member with an address reaches every other's over IPv4, everyone reaches everyone
    /// over IPv6, and each family's internet goes through an exit of that family and answers.
    @Test(arguments: [1, 2, 3, 4])
    func exitsOfBothFamiliesCarryEachFamilyAndMembersStillReachEachOther(seed: UInt64) {
        var builder = TopologyBuilder(seed: 400 + seed)
        let exits4 = builder.members(.peer, 2, routes: [AdvertisedRoute(prefix: .ipv4Default)])
        let exits6 = builder.members(.peer, 2, routes: [AdvertisedRoute(prefix: .ipv6Default)])
        let both = builder.member(
            .peer, routes: [AdvertisedRoute(prefix: .ipv4Default), AdvertisedRoute(prefix: .ipv6Default)])
        let bridge = builder.member(.peer, routes: [lan])
        let unaddressed = [builder.member(.peer), builder.member(.client)]
        let members =
            exits4 + exits6 + [both, bridge] + builder.members(.peer, 2) + builder.members(.client, 12) + unaddressed
        let topology = builder.topology(members, ipv4: Set(unaddressed.map(\.wireGuardKey)))
        let walk = ForwardingWalk(topology)
        expectAllPairsReach(walk, members, ipv4: true)
        expectAllPairsReach(walk, members)
        let exitsFor4 = Set((exits4 + [both]).map(\.wireGuardKey))
        let exitsFor6 = Set((exits6 + [both]).map(\.wireGuardKey))
        for source in members {
            let key = source.wireGuardKey
            for (internet, exits) in [(Self.internet4, exitsFor4), (Self.internet6, exitsFor6)] {
                let outcome = walk.send(from: key, to: internet)
                guard case .delivered(let at, _) = outcome else {
                    let expected = topology.ipv4[key] == nil && internet == Self.internet4
                    #expect(
                        expected || exits.contains(key), "a \(source.role) does not reach \(internet): \(outcome)")
                    continue
                }
                #expect(exits.contains(at), "\(internet) reached at a member that is no exit for it")
                let back: IPAddress = internet == Self.internet4 ? .v4(topology.ipv4[key]!) : .v6(source.address)
                let reply = walk.send(from: at, to: back, as: internet)
                #expect(reply.isDelivered, "the internet's reply to a \(source.role): \(reply)")
            }
        }
        // The split: both IPv4-only exits carry someone's IPv4 internet.
        let chosen = Set(members.compactMap { topology.exit(for: .ipv4Default, chooser: $0.wireGuardKey) })
        #expect(chosen.isSuperset(of: exits4.map(\.wireGuardKey)), "an IPv4 exit nobody picked")
        for (key, routing) in walk.routing {
            for peer in routing.sessions.keys {
                #expect(walk.routing[peer]?.sessions[key] != nil, "a session with no other end")
            }
            let all = routing.sessions.values.flatMap { $0 }
            #expect(Set(all).count == all.count, "an AllowedIP in two sessions")
        }
    }

    /// A member without an IPv4 address leaves 0.0.0.0/0 alone (its packets would carry another
    /// interface's source, which the exit does not masquerade), and an exit without one is not
    /// chosen (it has no route back); neither changes IPv6.
    @Test func withoutAnIPv4AddressNoIPv4DefaultRoute() {
        var builder = TopologyBuilder(seed: 11)
        let exit = builder.member(
            .peer, routes: [AdvertisedRoute(prefix: .ipv4Default), AdvertisedRoute(prefix: .ipv6Default)])
        let peer = builder.member(.peer)
        let client = builder.member(.client)
        let members = [exit, peer, client]
        for key in [peer.wireGuardKey, client.wireGuardKey] {
            let routing = builder.topology(members, ipv4: [key]).routing(for: key)
            #expect(!routing.routes.contains(.ipv4Default) && routing.routes.contains(.ipv6Default))
            #expect(!routing.sessions.values.contains { $0.contains(.ipv4Default) })
        }
        let pending = builder.topology(members, ipv4: [exit.wireGuardKey])
        #expect(pending.advertisers(of: .ipv4Default).isEmpty)
        #expect(pending.advertisers(of: .ipv6Default) == [exit.wireGuardKey])
        for key in [peer.wireGuardKey, client.wireGuardKey] {
            #expect(!pending.routing(for: key).routes.contains(.ipv4Default))
            #expect(ForwardingWalk(pending).send(from: key, to: Self.internet6).isDelivered)
        }
        // A mesh without an IPv4 network (made before IPv4 addresses): nobody has one.
        let legacy = builder.topology(members)
        #expect(legacy.advertisers(of: .ipv4Default).isEmpty)
        #expect(!legacy.routing(for: client.wireGuardKey).routes.contains(.ipv4Default))
    }

    /// Only an exit's own 0.0.0.0/0 counts: one bridged from another mesh would reach an exit
    /// that masquerades that mesh's IPv4 network, not this one's.
    @Test func aBridgedIPv4DefaultRouteIsIgnored() {
        var builder = TopologyBuilder(seed: 12)
        let bridge = builder.member(
            .peer,
            routes: [
                AdvertisedRoute(prefix: .ipv4Default, path: [Fixtures.mesh2]),
                AdvertisedRoute(prefix: .ipv6Default, path: [Fixtures.mesh2]),
            ])
        let peer = builder.member(.peer)
        let topology = builder.topology([bridge, peer], ipv4: [])
        #expect(topology.advertisers(of: .ipv4Default).isEmpty)
        #expect(topology.advertisers(of: .ipv6Default) == [bridge.wireGuardKey])
    }

    /// A client with an IPv4 exit: its attachment carries the mesh, the exit the internet; the
    /// exit returns the internet's answer on the client's own session (the /32 it accepts from).
    @Test func aClientTalksToItsIPv4ExitDirectly() throws {
        var builder = TopologyBuilder(seed: 13)
        let exits = builder.members(.peer, 3, routes: [AdvertisedRoute(prefix: .ipv4Default)])
        let client = builder.member(.client)
        let topology = builder.topology(exits + [client], ipv4: [])
        let exit = try #require(topology.exit(for: .ipv4Default, chooser: client.wireGuardKey))
        let routing = topology.routing(for: client.wireGuardKey)
        #expect(routing.sessions[exit]?.contains(.ipv4Default) == true)
        let attachment = try #require(topology.attachments[client.wireGuardKey])
        try #require(exit != attachment, "the seed gives the client an exit other than its peer")
        #expect(routing.sessions[attachment]?.contains(TopologyBuilder.ipv4Prefix) == true)
        let own = IPPrefix(address: .v4(topology.ipv4[client.wireGuardKey]!), length: 32)!
        #expect(topology.routing(for: exit).sessions[client.wireGuardKey]?.contains(own) == true)
        let walk = ForwardingWalk(topology)
        #expect(walk.send(from: client.wireGuardKey, to: Self.internet4) == .delivered(to: exit, hops: 1))
        #expect(
            walk.send(from: exit, to: .v4(topology.ipv4[client.wireGuardKey]!), as: Self.internet4)
                == .delivered(to: client.wireGuardKey, hops: 1))
    }
}
