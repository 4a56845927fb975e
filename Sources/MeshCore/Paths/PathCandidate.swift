/// An endpoint at which a member's WireGuard may be reached directly, published in its record so
/// that two members which would otherwise relay can punch through their NATs.
///
/// A *local* candidate is an address of one of the member's own interfaces with its listen port;
/// a *reflexive* one is where a peer saw the member's WireGuard packets come from (its NAT's
/// public address and the port the NAT chose).
public struct PathCandidate: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: UInt8, Sendable, CaseIterable {
        case local = 0
        case reflexive = 1
    }

    public var endpoint: Endpoint
    public var kind: Kind

    public init(_ endpoint: Endpoint, kind: Kind) {
        self.endpoint = endpoint
        self.kind = kind
    }

    public var description: String { "\(endpoint) (\(kind == .local ? "local" : "reflexive"))" }

    /// At most this many in a record: a few interface addresses and a reflexive endpoint per
    /// address family.
    public static let maxPerRecord = 8
    /// At most this many local candidates are published (the first of the host's addresses).
    static let maxLocal = 5
    /// At most this many reflexive ones: one per address family a peer sees the member over.
    static let maxReflexive = 2
    /// At most this many are tried per punching attempt.
    public static let maxTried = 4
}

extension Endpoint.Host {
    /// Addresses that mean something only on the member's own network: RFC 1918, the shared
    /// address space of carrier-grade NATs (100.64.0.0/10), link-local, and unique local IPv6.
    /// Another member sends to such a candidate only when both sit behind the same NAT, so no
    /// member can make the mesh send handshakes into other members' LANs.
    public var isSiteLocal: Bool {
        switch self {
        case .ipv4(let address):
            let value = address.value
            return value >> 24 == 10 || value >> 20 == 0xAC1 || value >> 16 == 0xC0A8
                || value >> 22 == (100 << 2 | 1) || value >> 16 == 0xA9FE
        case .ipv6(let address):
            if address.isIPv4Mapped {
                return Endpoint.Host.ipv4(IPv4Address(UInt32(truncatingIfNeeded: address.low))).isSiteLocal
            }
            return address.isLinkLocal || address.high >> 57 == 0x7E
        case .name:
            return true
        }
    }

    var isIPv6: Bool {
        if case .ipv6 = self { return true }
        return false
    }
}

/// Which of a member's candidates this node tries, in which order.
public enum PathCandidates {
    /// The candidates this node publishes: its interface addresses (those another member could
    /// use: not loopback, not the mesh's own) and the reflexive endpoints its peers reported.
    public static func own(local: [Endpoint], reflexive: [Endpoint], overlay: IPPrefix) -> [PathCandidate] {
        var result: [PathCandidate] = []
        for endpoint in reflexive.prefix(PathCandidate.maxReflexive)
        where EndpointPolicy.strict.refusal(of: endpoint, overlay: overlay) == nil {
            result.append(PathCandidate(endpoint, kind: .reflexive))
        }
        for endpoint in local.prefix(PathCandidate.maxLocal)
        where EndpointPolicy.strict.refusal(of: endpoint, overlay: overlay) == nil
            && !result.contains(where: { $0.endpoint == endpoint })
        {
            result.append(PathCandidate(endpoint, kind: .local))
        }
        return Array(result.prefix(PathCandidate.maxPerRecord))
    }

    /// Whether two members sit behind the same NAT: a reflexive address in common.
    public static func shareNAT(_ mine: [PathCandidate], _ theirs: [PathCandidate]) -> Bool {
        let ours = Set(mine.filter { $0.kind == .reflexive }.map(\.endpoint.host))
        return theirs.contains { $0.kind == .reflexive && ours.contains($0.endpoint.host) }
    }

    /// The other member's candidates to try, best first, at most `PathCandidate.maxTried`:
    /// behind the same NAT its site-local addresses (the LAN, no NAT in between), then its
    /// global IPv6 addresses (a stateful firewall opens for a simultaneous handshake; no NAT at
    /// all), then its reflexive endpoints (the NAT's mapping), then public IPv4 interface
    /// addresses. Site-local addresses are never tried across NATs.
    public static func toTry(theirs: [PathCandidate], mine: [PathCandidate]) -> [Endpoint] {
        let sameNAT = shareNAT(mine, theirs)
        // Two hosts behind one NAT can be seen at the same public address and port (by different
        // peers, which the NAT tells apart): sending there would reach this node's own mapping.
        let own = Set(mine.map(\.endpoint))
        var ordered: [Endpoint] = []
        func add(_ matching: (PathCandidate) -> Bool) {
            for candidate in theirs
            where matching(candidate) && !ordered.contains(candidate.endpoint) && !own.contains(candidate.endpoint) {
                ordered.append(candidate.endpoint)
            }
        }
        if sameNAT { add { $0.kind == .local && $0.endpoint.host.isSiteLocal } }
        add { $0.kind == .local && $0.endpoint.host.isIPv6 && !$0.endpoint.host.isSiteLocal }
        add { $0.kind == .reflexive }
        add { $0.kind == .local && !$0.endpoint.host.isIPv6 && !$0.endpoint.host.isSiteLocal }
        return Array(ordered.prefix(PathCandidate.maxTried))
    }

    /// Whether a member's NAT changed the source port of its WireGuard traffic: a reflexive
    /// port other than its listen port. NATs that keep the port usually map one inside port to
    /// one public port whatever the destination, which is what punching needs; NATs that pick
    /// ports (randomising, "symmetric") give each destination its own.
    public static func natChangesPorts(_ candidates: [PathCandidate], listenPort: UInt16) -> Bool {
        candidates.contains { $0.kind == .reflexive && $0.endpoint.port != listenPort }
    }
}
