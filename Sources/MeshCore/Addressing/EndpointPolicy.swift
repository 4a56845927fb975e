/// Which endpoints a member may publish in its record.
///
/// A record's endpoints are where every other member sends WireGuard handshakes and gossip for
/// it, so a hostile member could otherwise aim the whole mesh at each receiver's own loopback
/// (reaching whatever listens there), at a multicast or broadcast group (one datagram, many
/// recipients), at addresses no host can have, or into the mesh's own overlay (WireGuard would
/// route its outer packets through the tunnel they carry). These checks look only at the address,
/// so every receiver reaches the same verdict.
///
/// Private (RFC 1918, ULA outside the mesh) and link-local addresses are accepted: members on one
/// LAN find each other there, and such an address reaches nothing from a receiver that any other
/// host on its LAN could not reach anyway. Directed subnet broadcasts (`192.168.1.255`) cannot be
/// told from a host address without knowing the subnet and are not refused.
public struct EndpointPolicy: Hashable, Sendable {
    /// Accept 127.0.0.0/8 and ::1 (and their IPv4-mapped forms). Only control-plane-only daemons
    /// sharing one machine need this: each publishes `127.0.0.1` and the others reach it there.
    public var allowsLoopback: Bool

    public init(allowsLoopback: Bool = false) {
        self.allowsLoopback = allowsLoopback
    }

    /// What every daemon that manages WireGuard applies.
    public static let strict = EndpointPolicy()
    /// For a lab of control-plane-only daemons on one machine, where loopback is the only path.
    public static let loopbackLab = EndpointPolicy(allowsLoopback: true)

    /// Nil when a member of `mesh` may publish `endpoint`, else why not.
    public func refusal(of endpoint: Endpoint, in mesh: MeshID) -> EndpointRefusal? {
        refusal(of: endpoint, overlay: OverlayAddress.meshPrefix(of: mesh))
    }

    /// The same checks with the members' prefix given (nil skips the overlay check), for callers
    /// that check many endpoints or know no mesh yet.
    public func refusal(of endpoint: Endpoint, overlay: IPPrefix?) -> EndpointRefusal? {
        guard endpoint.port != 0 else { return .portZero }
        let refusal: EndpointRefusal?
        switch endpoint.host {
        case .name: return .name
        case .ipv4(let address): refusal = EndpointRefusal.classify(address)
        case .ipv6(let address):
            if let overlay, overlay.contains(.v6(address)) { return .meshOverlay }
            refusal = EndpointRefusal.classify(address)
        }
        if refusal == .loopback && allowsLoopback { return nil }
        return refusal
    }
}

/// Why an endpoint was refused; the description says what the address is and why that is unsafe.
public enum EndpointRefusal: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// A DNS name: receivers would resolve a name the member chose, and each could get a
    /// different answer.
    case name
    case portZero
    /// `0.0.0.0`, `::`: Linux delivers a datagram sent there to the sending host itself.
    case unspecified
    /// `0.0.0.0/8` other than `0.0.0.0`: "this network" (RFC 1122), never a destination.
    case thisNetwork
    /// `127.0.0.0/8`, `::1`.
    case loopback
    /// `224.0.0.0/4`, `ff00::/8`.
    case multicast
    /// `255.255.255.255`.
    case broadcast
    /// `240.0.0.0/4` (other than the broadcast address): reserved, never a host.
    case reserved
    /// Inside the mesh's own members' /64.
    case meshOverlay

    public var description: String {
        switch self {
        case .name: return "a DNS name (records carry addresses only)"
        case .portZero: return "port 0"
        case .unspecified: return "the unspecified address"
        case .thisNetwork: return "in 0.0.0.0/8, which names this host's own network"
        case .loopback: return "loopback, which would send other members' traffic to themselves"
        case .multicast: return "multicast"
        case .broadcast: return "the broadcast address"
        case .reserved: return "in the reserved 240.0.0.0/4"
        case .meshOverlay: return "inside the mesh's own overlay prefix, which would tunnel WireGuard through itself"
        }
    }

    /// The refusal an IPv4 address earns on its own, or nil for a usable unicast address.
    public static func classify(_ address: IPv4Address) -> EndpointRefusal? {
        if address.isUnspecified { return .unspecified }
        if address.value >> 24 == 0 { return .thisNetwork }
        if address.isLoopback { return .loopback }
        if address.isMulticast { return .multicast }
        if address.isBroadcast { return .broadcast }
        if address.value >> 28 == 0xF { return .reserved }
        return nil
    }

    /// IPv6 rules, and the IPv4 rules for an address embedded in the IPv4-mapped (`::ffff:0:0/96`)
    /// or the deprecated IPv4-compatible (`::/96`) form: a dual-stack socket sends to
    /// `::ffff:127.0.0.1` exactly as to `127.0.0.1`.
    public static func classify(_ address: IPv6Address) -> EndpointRefusal? {
        if address.isUnspecified { return .unspecified }
        if address.isLoopback { return .loopback }
        if address.isMulticast { return .multicast }
        if address.high == 0 && (address.isIPv4Mapped || address.low >> 32 == 0) {
            return classify(IPv4Address(UInt32(truncatingIfNeeded: address.low)))
        }
        return nil
    }
}
