import GossipCRDT

@testable import MeshCore

/// A home router's NAT for the harness, with the behaviours RFC 4787 names: how an outbound
/// flow is mapped to a public port, which inbound packets a mapping lets through, and how long
/// an idle mapping lives. Only UDP, one public address.
struct SimulatedNAT {
    enum Mapping {
        /// One public port per inside address and port, whatever the destination (most home
        /// routers; "cone").
        case endpointIndependent
        /// A new public port per destination address and port ("symmetric").
        case addressAndPortDependent
    }

    enum Filtering {
        /// Anyone may send to a mapped port ("full cone").
        case endpointIndependent
        /// Only hosts the inside address has sent to.
        case addressDependent
        /// Only the exact addresses and ports it has sent to.
        case addressAndPortDependent
    }

    struct Behaviour {
        var mapping: Mapping
        var filtering: Filtering
        /// An idle mapping is forgotten after this long (Linux conntrack: 30 s for UDP).
        var timeout: Duration = .seconds(30)
        /// The public port is the inside port when it is free (Linux masquerade does this).
        var preservesPorts = false
    }

    let publicIP: IPAddress
    let behaviour: Behaviour

    private struct Binding {
        var inside: PeerAddress
        /// The destination the binding was made for, when the mapping depends on it.
        var destination: PeerAddress?
        /// Who was sent to through it, and when last (either direction keeps it alive).
        var contacted: Set<PeerAddress> = []
        var lastUsed: Instant
    }

    private var bindings: [UInt16: Binding] = [:]
    private var nextPort: UInt16 = 40_000
    private(set) var dropped = 0

    init(publicIP: IPAddress, behaviour: Behaviour) {
        self.publicIP = publicIP
        self.behaviour = behaviour
    }

    /// The public source a datagram from `inside` to `destination` leaves with.
    mutating func outbound(from inside: PeerAddress, to destination: PeerAddress, now: Instant) -> PeerAddress {
        expire(now: now)
        let wanted: PeerAddress? = behaviour.mapping == .endpointIndependent ? nil : destination
        let port =
            bindings.first { $0.value.inside == inside && $0.value.destination == wanted }?.key
            ?? allocate(
                Binding(inside: inside, destination: wanted, lastUsed: now), preferring: inside.port)
        bindings[port]!.contacted.insert(destination)
        bindings[port]!.lastUsed = now
        return PeerAddress(ip: publicIP, port: port)
    }

    /// The inside address a datagram from `source` to public `port` is delivered to, or nil
    /// when no live mapping lets it in.
    mutating func inbound(to port: UInt16, from source: PeerAddress, now: Instant) -> PeerAddress? {
        expire(now: now)
        guard let binding = bindings[port] else {
            dropped += 1
            return nil
        }
        let allowed: Bool
        switch behaviour.filtering {
        case .endpointIndependent: allowed = true
        case .addressDependent: allowed = binding.contacted.contains { $0.ip == source.ip }
        case .addressAndPortDependent: allowed = binding.contacted.contains(source)
        }
        guard allowed else {
            dropped += 1
            return nil
        }
        bindings[port]!.lastUsed = now
        return binding.inside
    }

    private mutating func allocate(_ binding: Binding, preferring port: UInt16) -> UInt16 {
        if behaviour.preservesPorts, bindings[port] == nil {
            bindings[port] = binding
            return port
        }
        while bindings[nextPort] != nil { nextPort = nextPort == .max ? 40_000 : nextPort + 1 }
        bindings[nextPort] = binding
        defer { nextPort = nextPort == .max ? 40_000 : nextPort + 1 }
        return nextPort
    }

    private mutating func expire(now: Instant) {
        bindings = bindings.filter { now.since($0.value.lastUsed) < behaviour.timeout }
    }
}
