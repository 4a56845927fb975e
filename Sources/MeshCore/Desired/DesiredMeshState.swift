import GossipCRDT

/// What this node's WireGuard interface, addresses and routes should look like for one mesh,
/// computed from the replicated membership alone.
///
/// Pure: the daemon computes it after membership changes and hands it to the reconcilers, which
/// send the kernel only the difference; tests check it without any interface.
public struct DesiredMeshState: Equatable, Sendable {
    public var device: WireGuardDevice
    /// Addresses on the mesh interface: this node's overlay address with the mesh /64 and, when
    /// it has one, its IPv4 address with the mesh's IPv4 prefix, so the kernel routes the whole
    /// mesh into the tunnel and WireGuard picks the peer.
    public var addresses: [IPNet]
    /// Advertised prefixes routed into the mesh interface (link index filled in by the caller).
    public var routes: [RouteEntry]
    /// Whether this node must forward packets for others (see `NodeRouting.forwards`).
    public var forwardsIPv6: Bool
    public var forwardsIPv4: Bool
    /// The nftables rules of this mesh: masquerade and MSS clamping on an exit.
    public var filter = PacketFilter()
    /// True when an IPv4 default route goes through the mesh: the kernel must then take the
    /// fwmark into account when it checks a packet's source (`net.ipv4.conf.all.src_valid_mark=1`),
    /// as wg-quick sets it for a full IPv4 tunnel.
    public var needsSourceValidMark = false

    /// Keepalive a client uses towards peers, so its NAT mapping stays open (seconds).
    public static let clientKeepalive: UInt16 = 25
    /// Metric of the routes smegd installs: above the kernel's connected routes (0 for IPv4, 256
    /// for IPv6), so a prefix this host is directly attached to never goes into the tunnel, and
    /// below the 1024 of routes added without one.
    public static let routeMetric: UInt32 = 1000

    public struct Inputs: Sendable {
        public var mesh: MeshID
        public var identity: NodeIdentity
        public var interfaceName: String
        public var listenPort: UInt16
        public var role: NodeRecord.Role
        /// Keepalive chosen by the operator; nil picks `clientKeepalive` for clients, none for peers.
        public var keepalive: UInt16?
        /// Every present member's verified record, ourselves possibly included.
        public var members: [NodeRecord]
        /// The mesh's IPv4 network and the members' IPv4 overlay addresses (`IPv4Assignment`);
        /// a member missing here has IPv6 only.
        public var ipv4Prefix: IPPrefix?
        public var ipv4: [WireGuardPublicKey: IPv4Address] = [:]
        /// The direct paths this node keeps or is punching (`DirectPaths.plans`).
        public var directPaths: [WireGuardPublicKey: DirectPaths.Plan] = [:]
        /// The access policy in force and the members' tags (`MeshNode.currentAccessPolicy`).
        public var accessPolicy = AccessPolicy.everyoneReachesEveryone
        public var tags: [NodeID: [AccessTag]] = [:]

        public init(
            mesh: MeshID, identity: NodeIdentity, interfaceName: String, listenPort: UInt16, role: NodeRecord.Role,
            keepalive: UInt16?, members: [NodeRecord]
        ) {
            self.mesh = mesh
            self.identity = identity
            self.interfaceName = interfaceName
            self.listenPort = listenPort
            self.role = role
            self.keepalive = keepalive
            self.members = members
        }
    }

    /// The topology the state is computed from: the members, and this node as the role it is
    /// about to publish if its own record is not among them yet.
    public static func topology(for inputs: Inputs) -> MeshTopology {
        var members = inputs.members
        if !members.contains(where: { $0.wireGuardKey == inputs.identity.wireGuardPublicKey }) {
            members.append(
                NodeRecord(
                    identity: inputs.identity, mesh: inputs.mesh, wireGuardPort: inputs.listenPort, gossipPort: 0,
                    role: inputs.role, version: 0))
        }
        return MeshTopology(
            mesh: inputs.mesh, members: members, ipv4Prefix: inputs.ipv4Prefix, ipv4: inputs.ipv4,
            access: inputs.accessPolicy, tags: inputs.tags)
    }

    public static func compute(_ inputs: Inputs) -> DesiredMeshState {
        compute(inputs, topology: topology(for: inputs))
    }

    /// `topology` must come from `topology(for: inputs)`; passing it lets a caller keep it.
    public static func compute(_ inputs: Inputs, topology: MeshTopology) -> DesiredMeshState {
        let me = inputs.identity.wireGuardPublicKey
        let routing = topology.routing(for: me)
        let keepalive = inputs.keepalive ?? (inputs.role == .client ? clientKeepalive : 0)
        var sessions = routing.sessions
        var punching: [WireGuardPublicKey: WireGuardEndpoint?] = [:]
        var directKeepalive: [WireGuardPublicKey: UInt16] = [:]
        // A pair the policy keeps apart never gets a direct session either.
        for (key, plan) in inputs.directPaths
        where sessions[key] == nil && topology.members[key] != nil && topology.mayConnect(me, key) {
            switch plan {
            case .punching(let endpoint):
                // No AllowedIPs until both ends saw a handshake: the relay keeps the traffic.
                sessions[key] = []
                punching[key] = endpoint
            case .direct(let keepalive):
                // The pair's addresses move off whichever session carried them.
                let host = topology.hostPrefixes(of: key)
                for other in sessions.keys { sessions[other]!.removeAll(where: host.contains) }
                sessions[key] = host
                directKeepalive[key] = keepalive
            }
        }
        var peers: [WireGuardPeer] = []
        for (key, prefixes) in sessions.sorted(by: { $0.key < $1.key }) {
            guard let member = topology.members[key]?.record, let publicKey = WireGuardKey(bytes: key.bytes) else {
                continue
            }
            // A punching peer goes where its plan says, nil keeping what the device learnt.
            let peerEndpoint: WireGuardEndpoint?
            if let planned = punching[key] { peerEndpoint = planned } else { peerEndpoint = endpoint(of: member) }
            let peerKeepalive =
                punching[key] != nil
                ? DirectPaths.natKeepalive : directKeepalive[key] ?? (member.role == .peer ? keepalive : 0)
            peers.append(
                WireGuardPeer(
                    publicKey: publicKey, endpoint: peerEndpoint,
                    allowedIPs: prefixes.map(IPNet.init), persistentKeepalive: peerKeepalive))
        }
        var device = WireGuardDevice(name: inputs.interfaceName, peers: peers)
        device.privateKey = WireGuardKey(bytes: inputs.identity.wireGuardPrivateKey.bytes)
        device.listenPort = inputs.listenPort
        let address = inputs.identity.address(in: inputs.mesh)
        let prefix = OverlayAddress.meshPrefix(of: inputs.mesh)
        var addresses = [IPNet(address: address.bytes, prefixLength: UInt8(prefix.length))!]
        // The IPv4 address with the mesh's prefix length, as for IPv6: the kernel routes the
        // whole mesh network into the tunnel, and WireGuard picks the peer.
        if let ipv4Prefix = inputs.ipv4Prefix, let own = inputs.ipv4[me] {
            addresses.append(IPNet(address: own.bytes, prefixLength: UInt8(ipv4Prefix.length))!)
        }
        let own = topology.members[me]?.record.routes ?? []
        var filter = PacketFilter.forNode(advertised: own, ipv4Prefix: inputs.ipv4[me] == nil ? nil : inputs.ipv4Prefix)
        filter.keepInboundReplies = routing.routes.contains(where: \.isDefaultRoute)
        filter.access = AccessFilter.forNode(me, topology: topology, routing: routing)
        return DesiredMeshState(
            device: device, addresses: addresses,
            routes: routing.routes.map {
                RouteEntry(destination: IPNet($0), metric: routeMetric)
            },
            forwardsIPv6: routing.forwards, forwardsIPv4: routing.forwardsIPv4,
            filter: filter,
            needsSourceValidMark: routing.routes.contains(.ipv4Default))
    }

    /// The member's first endpoint given as an address (records never carry names). A record
    /// endpoint's port is where WireGuard answers from outside, which may differ from the local
    /// listen port behind a port forward. Nil for members that publish none (clients behind
    /// NAT): WireGuard learns their address from their handshakes, and reconciliation keeps it.
    public static func endpoint(of member: NodeRecord) -> WireGuardEndpoint? {
        for endpoint in member.endpoints {
            switch endpoint.host {
            case .ipv4(let address): return WireGuardEndpoint(address: address.bytes, port: endpoint.port)
            case .ipv6(let address): return WireGuardEndpoint(address: address.bytes, port: endpoint.port)
            case .name: continue
            }
        }
        return nil
    }
}

extension IPNet {
    /// The same prefix in the kernel's representation.
    public init(_ prefix: IPPrefix) {
        self.init(address: prefix.address.bytes, prefixLength: UInt8(prefix.length))!
    }
}
