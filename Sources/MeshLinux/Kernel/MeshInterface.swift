import MeshCore

/// The kernel side of one mesh on Linux: its WireGuard interface, addresses, routes and MTU.
///
/// Owned by one `MeshRuntime` actor, which is what makes the non-thread-safe netlink sockets
/// and backends inside it safe to use.
public final class MeshInterface: MeshKernel {
    let name: String
    let mtu: Int
    private let choice: WireGuardBackendChoice
    private let log: LogSink
    private var backend: (any WireGuardBackend)?
    private var route: NetlinkSocket?

    /// Routes of default routes (exits) go to this table, numbered like the mesh's WireGuard
    /// listen port (as wg-quick does), which is unique among this node's meshes.
    private let exitTable: UInt32
    private let manageForwarding: Bool
    /// The nftables script last applied with success, so an unchanged filter runs no `nft`; nil
    /// until the first apply, which always runs it once, so a table an earlier daemon left
    /// behind is replaced or removed.
    private var appliedFilter: String?

    public init(
        name: String, mtu: Int, choice: WireGuardBackendChoice, exitTable: UInt32, manageForwarding: Bool,
        log: @escaping LogSink
    ) {
        self.name = name
        self.mtu = mtu
        self.choice = choice
        self.exitTable = exitTable
        self.manageForwarding = manageForwarding
        self.log = log
    }

    /// "kernel" or "userspace"; "none" before the first apply.
    public var backendName: String { backend.map { $0.kind.rawValue } ?? "none" }

    /// Brings the interface to `desired`: creates it if needed, then sends only the differences
    /// of peers and addresses, and sets MTU and up.
    public func apply(_ desired: DesiredMeshState) throws -> MeshNode.Applied {
        let backend = try openBackend()
        let route = try routeSocket()
        let exits = ExitRouting(table: exitTable, routes: desired.routes)
        var device = desired.device
        if !exits.families.isEmpty { device.fwmark = ExitRouting.firewallMark }
        let update = try backend.reconcile(device)
        let plan = try route.reconcileAddresses(
            link: name, desired: desired.addresses, options: AddressOptions(noPrefixRoute: false, noDAD: true))
        try route.setLink(name: name, up: true, mtu: UInt32(mtu))
        let routes = try route.reconcileRoutes(link: name, desired: exits.routes)
        try exits.reconcileRules(on: route)
        if manageForwarding {
            Forwarding.ensure(ipv6: desired.forwardsIPv6, ipv4: desired.forwardsIPv4, log: log)
        }
        if desired.needsSourceValidMark { ExitRouting.ensureSourceValidMark(log: log) }
        let problem = reconcileFilter(desired.filter)
        let newPeers = update.peers.filter { !$0.remove && !$0.updateOnly }
        HandshakePoke.send(to: newPeers.compactMap { $0.allowedIPs.first })
        let added = newPeers.count
        let removed = update.peers.filter(\.remove).count
        let changed = update.peers.filter(\.updateOnly).count
        let summary =
            "\(desired.device.peers.count) peers (+\(added) -\(removed) ~\(changed)), "
            + "addresses +\(plan.add.count) -\(plan.remove.count), routes ~\(routes.replace.count) -\(routes.remove.count)"
        return MeshNode.Applied(summary: summary, added: newPeers.map(\.publicKey), problem: problem)
    }

    /// Brings the mesh's nftables table to `filter`; nil, or what went wrong. Without `nft` a
    /// node that needs no rules is fine (there is nothing to remove either), and one that does
    /// gets everything else applied and this said in its status.
    private func reconcileFilter(_ filter: PacketFilter) -> String? {
        let script = filter.script(interface: name, mtu: mtu)
        guard script != appliedFilter else { return nil }
        do {
            try NFTables.run(script: script)
        } catch NFTables.Failure.missing where filter.isEmpty {
            appliedFilter = script
            return nil
        } catch {
            return "cannot install the exit's packet filter (nftables table inet \(name): \(filter.summary)): \(error)"
        }
        if !filter.isEmpty {
            log(.info, "nftables table inet \(name): \(filter.summary)")
        } else if appliedFilter != nil {
            log(.info, "removed nftables table inet \(name): no rules needed any more")
        }
        appliedFilter = script
        return nil
    }

    /// Starts a peer's handshake again: removes it and adds it back with the same configuration
    /// and endpoint (a fresh peer may initiate at once), then sends it a packet. Only for a peer
    /// with no handshake after `unlessAfter` (the core renews a session that way after a wake or
    /// a network change, when the other side may have dropped it). WireGuard
    /// retries a handshake only every 5 s, and a client's first attempt is lost whenever it
    /// reaches its peer before the peer has added the client. Returns false when there is
    /// nothing to do (the handshake happened, or the peer is gone).
    public func restartHandshake(with key: WireGuardKey, unlessAfter: Double?) throws -> Bool {
        guard let backend else { return false }
        guard let peer = try backend.device(named: name).peers.first(where: { $0.publicKey == key }),
            !MeshNode.handshake(peer.lastHandshake, isAfter: unlessAfter)
        else { return false }
        var removal = WireGuardDeviceUpdate()
        removal.peers = [.removal(key)]
        try backend.apply(removal, to: name)
        var addition = WireGuardDeviceUpdate()
        addition.peers = [.add(peer.configuration)]
        try backend.apply(addition, to: name)
        HandshakePoke.send(to: Array(peer.allowedIPs.prefix(1)))
        return true
    }

    public func hostEndpoints(port: UInt16) -> [Endpoint] { HostAddresses.endpoints(port: port) }

    public func observePeers() throws -> [WireGuardKey: MeshNode.KernelPeer] {
        guard let backend else { return [:] }
        var peers: [WireGuardKey: MeshNode.KernelPeer] = [:]
        for peer in try backend.device(named: name).peers {
            peers[peer.publicKey] = MeshNode.KernelPeer(
                lastHandshake: peer.lastHandshake, endpoint: peer.endpoint, receivedBytes: peer.rxBytes,
                sentBytes: peer.txBytes)
        }
        return peers
    }

    /// Deletes the interface (on leave, or at shutdown when configured).
    public func remove() {
        do {
            // The interface's routes go with it; the exit rules and the packet filter do not.
            try ExitRouting(table: exitTable, routes: []).reconcileRules(on: routeSocket())
            if let problem = reconcileFilter(PacketFilter()) { log(.warning, problem) }
            if let backend {
                try backend.deleteInterface(name)
            } else {
                try routeSocket().deleteLink(name: name)
            }
            log(.info, "removed interface \(name)")
        } catch {
            log(.warning, "could not remove interface \(name): \(error)")
        }
        backend = nil
    }

    private func openBackend() throws -> any WireGuardBackend {
        if let backend { return backend }
        let log = self.log
        let opened = try WireGuardBackendSelector.open(interface: name, choice: choice) { message in
            log(.notice, message)
        }
        log(.info, "interface \(name) uses the \(opened.kind.rawValue) WireGuard backend")
        backend = opened
        return opened
    }

    private func routeSocket() throws -> NetlinkSocket {
        if let route { return route }
        let socket = try NetlinkSocket.route()
        route = socket
        return socket
    }
}
