import Testing

@testable import MeshCore

/// The device, addresses and routes a node asks the kernel for, from membership alone.
@Suite struct DesiredMeshStateTests {
    let mesh = Fixtures.mesh1

    func inputs(_ identity: NodeIdentity, role: NodeRecord.Role, members: [NodeRecord]) -> DesiredMeshState.Inputs {
        DesiredMeshState.Inputs(
            mesh: mesh, identity: identity, interfaceName: "smegtest", listenPort: 51820, role: role,
            keepalive: nil, members: members)
    }

    func record(
        _ identity: NodeIdentity, _ role: NodeRecord.Role, routes: [AdvertisedRoute] = [], host: Int
    )
        -> NodeRecord
    {
        var record = NodeRecord(
            identity: identity, mesh: mesh, endpoints: role == .peer ? [Endpoint("192.0.2.\(host):51820")!] : [],
            wireGuardPort: 51820, gossipPort: 51900, role: role)
        record.routes = routes
        return record
    }

    @Test func aClientTalksOnlyToItsPeerWithTheWholeMeshAndAKeepalive() throws {
        let peers = try (1...3).map { _ in try NodeIdentity.generate() }
        let me = try NodeIdentity.generate()
        let members =
            peers.enumerated().map { record($1, .peer, host: $0 + 1) } + [record(me, .client, host: 9)]
        let topology = MeshTopology(mesh: mesh, members: members)
        let state = DesiredMeshState.compute(inputs(me, role: .client, members: members))
        let peer = try #require(state.device.peers.first)
        #expect(state.device.peers.count == 1)
        #expect(peer.publicKey.bytes == topology.attachments[me.wireGuardPublicKey]!.bytes)
        #expect(peer.allowedIPs == [IPNet(OverlayAddress.meshPrefix(of: mesh))])
        #expect(peer.persistentKeepalive == DesiredMeshState.clientKeepalive)
        #expect(peer.endpoint != nil)
        #expect(state.routes.isEmpty && !state.forwardsIPv6)
        #expect(state.addresses == [IPNet(address: me.address(in: mesh).bytes, prefixLength: 64)!])
    }

    @Test func aPeerCarriesItsClientsAndForwards() throws {
        let peer = try NodeIdentity.generate()
        let client = try NodeIdentity.generate()
        let members = [record(peer, .peer, host: 1), record(client, .client, host: 2)]
        let state = DesiredMeshState.compute(inputs(peer, role: .peer, members: members))
        #expect(state.device.peers.count == 1)
        #expect(
            state.device.peers[0].allowedIPs == [IPNet(address: client.address(in: mesh).bytes, prefixLength: 128)!])
        #expect(state.device.peers[0].endpoint == nil, "a client's endpoint is learned, never set")
        #expect(state.device.peers[0].persistentKeepalive == 0)
        #expect(state.forwardsIPv6 && !state.forwardsIPv4)
    }

    @Test func advertisedPrefixesBecomeRoutesAndAllowedIPs() throws {
        let me = try NodeIdentity.generate()
        let exit = try NodeIdentity.generate()
        let lan = try NodeIdentity.generate()
        let members = [
            record(me, .peer, host: 1),
            record(exit, .peer, routes: [AdvertisedRoute(prefix: .ipv6Default)], host: 2),
            record(lan, .peer, routes: [AdvertisedRoute(prefix: IPPrefix("10.20.0.0/16")!)], host: 3),
        ]
        let state = DesiredMeshState.compute(inputs(me, role: .peer, members: members))
        #expect(
            state.routes == [
                RouteEntry(destination: IPNet("10.20.0.0/16")!, metric: DesiredMeshState.routeMetric),
                RouteEntry(destination: IPNet("::/0")!, metric: DesiredMeshState.routeMetric),
            ])
        let byKey = Dictionary(uniqueKeysWithValues: state.device.peers.map { ($0.publicKey.bytes, $0.allowedIPs) })
        #expect(byKey[exit.wireGuardPublicKey.bytes]!.contains(IPNet("::/0")!))
        #expect(byKey[lan.wireGuardPublicKey.bytes]!.contains(IPNet("10.20.0.0/16")!))
        #expect(!state.forwardsIPv6, "using routes is not forwarding")
        let exitState = DesiredMeshState.compute(inputs(exit, role: .peer, members: members))
        #expect(!exitState.routes.contains { $0.destination == IPNet("::/0")! }, "an exit never routes its own prefix")
        #expect(exitState.forwardsIPv6 && exitState.forwardsIPv4)
    }

    @Test func beforeOurRecordIsAcceptedWeDecideAsOurRole() throws {
        let me = try NodeIdentity.generate()
        let peers = try (1...2).map { _ in try NodeIdentity.generate() }
        let members = peers.enumerated().map { record($1, .peer, host: $0 + 1) }
        let state = DesiredMeshState.compute(inputs(me, role: .client, members: members))
        #expect(state.device.peers.count == 1, "a client attaches to one peer even before its record is in")
    }
}
