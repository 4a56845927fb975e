/// What this node's WireGuard interface, addresses and routes should look like for one mesh,
/// computed from the replicated membership alone.
///
/// Pure: the daemon computes it after membership changes and hands it to the reconcilers, which
/// send the kernel only the difference; tests check it without any interface.
public struct DesiredMeshState: Equatable, Sendable {
    public var device: WireGuardDevice
    /// Addresses on the mesh interface: this node's overlay address with the mesh /64, so the
    /// kernel routes the whole mesh prefix into the tunnel and WireGuard picks the peer.
    public var addresses: [IPNet]

    /// Keepalive a client uses towards peers, so its NAT mapping stays open (seconds).
    public static let clientKeepalive: UInt16 = 25

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

    public static func compute(_ inputs: Inputs) -> DesiredMeshState {
        let me = inputs.identity.wireGuardPublicKey
        let keepalive = inputs.keepalive ?? (inputs.role == .client ? clientKeepalive : 0)
        var peers: [WireGuardPeer] = []
        for member in inputs.members.sorted(by: { $0.wireGuardKey < $1.wireGuardKey }) {
            guard member.wireGuardKey != me, let key = WireGuardKey(bytes: member.wireGuardKey.bytes) else { continue }
            // Two clients cannot reach each other directly (neither has a reachable endpoint);
            // traffic between them goes through peers once routing through peers exists.
            if inputs.role == .client && member.role == .client { continue }
            peers.append(
                WireGuardPeer(
                    publicKey: key, endpoint: endpoint(of: member),
                    allowedIPs: [IPNet(address: member.address.bytes, prefixLength: 128)!],
                    persistentKeepalive: member.role == .peer ? keepalive : 0))
        }
        var device = WireGuardDevice(name: inputs.interfaceName, peers: peers)
        device.privateKey = WireGuardKey(bytes: inputs.identity.wireGuardPrivateKey.bytes)
        device.listenPort = inputs.listenPort
        let address = inputs.identity.address(in: inputs.mesh)
        let prefix = OverlayAddress.meshPrefix(of: inputs.mesh)
        return DesiredMeshState(
            device: device, addresses: [IPNet(address: address.bytes, prefixLength: UInt8(prefix.length))!])
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
