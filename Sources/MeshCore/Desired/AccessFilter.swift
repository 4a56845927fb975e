/// What this node's nftables rules let through its mesh interface under an access policy, as
/// data (`script(interface:)` renders it), and the same decision as a function (`admits`) the
/// tests walk packets through.
///
/// WireGuard sessions already keep pairs with no flow at all apart (`MeshTopology+Access`).
/// These rules enforce the rest, where a session carries more than one pair may use: a client's
/// session with its peer carries the whole mesh, a relay forwards for others, and a rule may
/// allow only some ports.
///
/// - **Input** (packets for this node from the mesh interface): a flow a member opened to this
///   node passes when the policy lets that member open it; answers to a flow this node opened
///   pass when the policy lets this node open it. So a hostile relay, or a client's peer, cannot
///   inject what the policy forbids: the receiver itself drops it.
/// - **Relay** (from the mesh interface back into it): the pair's flow, by its first packet's
///   source and destination, must be allowed from the one who opened it to the other.
/// - **Out of the mesh** (an exit or a node advertising routes): a flow a member opens to
///   anything beyond this node is a flow to this node for the policy.
/// - **Into the mesh** from other interfaces: only answers to flows members opened.
///
/// Every packet is checked against the connection's original direction (conntrack's `ct
/// original` tuple and its destination port), not only the first: a revoked rule stops
/// established flows at their next packet, with no window between replacing the rules and
/// flushing conntrack entries. ICMP errors about a flow (`related`) pass with it, and gossip
/// to a member's gossip port always passes (it is authenticated on its own, and clients
/// without endpoints gossip through the mesh). Flows opened from beyond a member's routes (a
/// LAN host behind a subnet router, the internet through an exit, another mesh through a
/// bridge) have no member as their source and are dropped while a policy is in force.
public struct AccessFilter: Equatable, Sendable {
    public struct Pair: Hashable, Sendable {
        public let source: IPAddress
        public let destination: IPAddress

        public init(_ source: IPAddress, _ destination: IPAddress) {
            self.source = source
            self.destination = destination
        }
    }

    public struct Service: Hashable, Sendable {
        public let address: IPAddress
        public let port: UInt16

        public init(_ address: IPAddress, _ port: UInt16) {
            self.address = address
            self.port = port
        }
    }

    /// What each member may open to this node (and to the routes it advertises), by the
    /// member's addresses.
    public var opened: [IPAddress: AccessTraffic] = [:]
    /// What this node may open to each member, by the member's addresses: their answers pass.
    public var answered: [IPAddress: AccessTraffic] = [:]
    /// What this node relays: the pairs of which at least one end is a client it carries.
    public var relayed: [Pair: AccessTraffic] = [:]
    /// Every member's gossip socket on its overlay address.
    public var gossip: Set<Service> = []
    /// The mesh's networks: a flow to an address outside them goes to an exit or a route.
    public var meshNetworks: [IPPrefix] = []

    public init() {}

    /// Where a packet crosses this node, relative to this mesh's interface.
    public enum Path: Sendable, CaseIterable {
        /// From the mesh interface to this node.
        case input
        /// From the mesh interface back into it.
        case relay
        /// From the mesh interface to another interface.
        case outOfMesh
        /// From another interface into the mesh interface.
        case intoMesh
    }

    /// A packet as the rules see it: its connection's original source, destination, IP
    /// protocol and destination port (0 without ports), and whether it travels in the
    /// connection's original direction or answers it.
    public struct Packet: Hashable, Sendable {
        public var source: IPAddress
        public var destination: IPAddress
        public var protocolNumber: UInt8
        public var port: UInt16
        public var isReply: Bool

        public init(source: IPAddress, destination: IPAddress, protocolNumber: UInt8, port: UInt16, isReply: Bool) {
            self.source = source
            self.destination = destination
            self.protocolNumber = protocolNumber
            self.port = port
            self.isReply = isReply
        }
    }

    /// The rules' decision for a packet that is not an ICMP error about a flow (those pass).
    public func admits(_ packet: Packet, on path: Path) -> Bool {
        let toGossip =
            packet.protocolNumber == AccessProtocol.udp.rawValue
            && gossip.contains(Service(packet.destination, packet.port))
        let inMesh = meshNetworks.contains { $0.contains(packet.destination) }
        switch path {
        case .input:
            if toGossip { return true }
            if !packet.isReply { return Self.admits(opened[packet.source], packet) }
            return !inMesh || Self.admits(answered[packet.destination], packet)
        case .relay:
            if toGossip || !inMesh { return true }
            return Self.admits(relayed[Pair(packet.source, packet.destination)], packet)
        case .outOfMesh:
            return !packet.isReply && Self.admits(opened[packet.source], packet)
        case .intoMesh:
            return packet.isReply && Self.admits(opened[packet.source], packet)
        }
    }

    private static func admits(_ traffic: AccessTraffic?, _ packet: Packet) -> Bool {
        guard let traffic else { return false }
        if traffic.anyProtocol { return true }
        switch AccessProtocol(rawValue: packet.protocolNumber) {
        case .icmp?: return traffic.icmp
        case .tcp?: return traffic.tcp.contains(packet.port)
        case .udp?: return traffic.udp.contains(packet.port)
        case nil: return packet.protocolNumber == Self.icmpv6 && traffic.icmp
        }
    }

    /// ICMPv6's protocol number: `icmp` in a rule is ICMP and ICMPv6 alike.
    public static let icmpv6: UInt8 = 58

    /// Rules as counts, for the log and the status.
    public var summary: String {
        "access policy: \(opened.count) sources in, \(answered.count) out, \(relayed.count) relayed pairs"
    }
}

extension AccessFilter {
    /// The filter of `me` in `topology` with its `routing`; nil when no policy is in force.
    public static func forNode(
        _ me: WireGuardPublicKey, topology: MeshTopology, routing: NodeRouting
    ) -> AccessFilter? {
        let access = topology.access
        guard !access.isOpen else { return nil }
        var filter = AccessFilter()
        filter.meshNetworks = topology.meshNetworks
        let keys = topology.members.keys.sorted()
        // Each member's addresses, asked for once per pair below.
        var addressesOf: [WireGuardPublicKey: [IPAddress]] = [:]
        for key in keys { addressesOf[key] = topology.hostPrefixes(of: key).map(\.address) }
        for key in keys {
            let record = topology.members[key]!.record
            filter.gossip.insert(Service(.v6(record.address), record.gossipPort))
            guard key != me else { continue }
            let addresses = addressesOf[key]!
            let opened = access.traffic(from: key.nodeID, to: me.nodeID)
            let answered = access.traffic(from: me.nodeID, to: key.nodeID)
            for address in addresses {
                if !opened.isEmpty { filter.opened[address] = opened }
                if !answered.isEmpty { filter.answered[address] = answered }
            }
        }
        let carried = topology.carried(by: me, sessions: routing.sessions).filter { $0 != me }
        let carriedSet = Set(carried)
        for client in carried {
            for other in keys where other != me && other != client {
                // A pair of two carried clients is met from both sides: once is enough.
                if carriedSet.contains(other) && other < client { continue }
                for (source, destination) in [(client, other), (other, client)] {
                    let traffic = access.traffic(from: source.nodeID, to: destination.nodeID)
                    guard !traffic.isEmpty else { continue }
                    for from in addressesOf[source]! {
                        for address in addressesOf[destination]! where address.bitCount == from.bitCount {
                            filter.relayed[Pair(from, address)] = traffic
                        }
                    }
                }
            }
        }
        return filter
    }
}
