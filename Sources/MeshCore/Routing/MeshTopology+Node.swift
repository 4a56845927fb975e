/// One node's share of a `MeshTopology`: its WireGuard sessions, the addresses each carries,
/// and the prefixes it routes into the mesh.
public struct NodeRouting: Equatable, Sendable {
    /// Every WireGuard session this node keeps and the prefixes it carries. A session's
    /// AllowedIPs are both what this node sends into it and what it accepts from it, so each
    /// prefix appears in exactly one session.
    public var sessions: [WireGuardPublicKey: [IPPrefix]] = [:]
    /// Advertised prefixes to route into the mesh interface, sorted.
    public var routes: [IPPrefix] = []
    /// True when other members' packets pass through this node: a peer with clients, or any
    /// node that advertises prefixes.
    public var forwards = false
    /// True when some prefix it forwards for is IPv4.
    public var forwardsIPv4 = false

    public init() {}
}

extension MeshTopology {
    /// The sessions and routes of `me`, which must be a member.
    public func routing(for me: WireGuardPublicKey) -> NodeRouting {
        var routing = NodeRouting()
        guard let member = members[me] else { return routing }
        if member.isPeer {
            addPeerSessions(me, to: &routing)
        } else if let attachment = attachments[me] {
            routing.sessions[attachment] = [OverlayAddress.meshPrefix(of: mesh)] + (ipv4Prefix.map { [$0] } ?? [])
        }
        for prefix in advertisedPrefixes {
            guard let hop = nextHop(for: prefix, chooser: me) else { continue }
            if routing.sessions[hop] == nil { routing.sessions[hop] = hostPrefixes(of: hop) }
            routing.sessions[hop]!.append(prefix)
            routing.routes.append(prefix)
        }
        if !member.isPeer { addClientRelays(me, to: &routing) }
        restrict(&routing, for: me)
        let advertisesAny = !member.record.routes.isEmpty
        let relaysClients = member.isPeer && routing.sessions.keys.contains { members[$0]?.isPeer == false }
        routing.forwards = advertisesAny || relaysClients
        routing.forwardsIPv4 =
            routing.forwards
            && (!ipv4.isEmpty
                || prefixes.keys.contains { prefix in
                    if case .v4 = prefix.address { return true }
                    return false
                })
        return routing
    }

    /// A peer talks to every other peer, to its own clients, and to clients that picked it as
    /// an exit; every other client is reached through that client's attachment.
    private func addPeerSessions(_ me: WireGuardPublicKey, to routing: inout NodeRouting) {
        for peer in peers where peer != me { routing.sessions[peer] = hostPrefixes(of: peer) }
        for (client, member) in members where !member.isPeer {
            let host = hostPrefixes(of: client)
            if attachments[client] == me || directExits(of: client).contains(me) {
                routing.sessions[client, default: []].append(contentsOf: host)
            } else if let attachment = attachments[client] {
                routing.sessions[attachment, default: []].append(contentsOf: host)
            }
        }
    }

    /// Clients reach each other through peers, and WireGuard accepts a packet only on the
    /// session its source routes back to, so both directions of a pair must use the same relay.
    /// By default that is the two attachments (client, its peer, the other's peer, client). When
    /// one client talks directly to the other's peer (it picked that peer as an exit), that peer
    /// alone can relay; `relay(between:and:)` picks it the same way from either side.
    private func addClientRelays(_ me: WireGuardPublicKey, to routing: inout NodeRouting) {
        for (other, member) in members where other != me && !member.isPeer {
            if let relay = relay(between: me, and: other), relay != attachments[me] {
                routing.sessions[relay, default: hostPrefixes(of: relay)].append(contentsOf: hostPrefixes(of: other))
            }
        }
    }

    /// The single peer that relays between two clients when one talks to the other's peer
    /// directly, the lower key when both do; nil when the pair goes through both attachments.
    /// Symmetric in its arguments.
    func relay(between first: WireGuardPublicKey, and second: WireGuardPublicKey) -> WireGuardPublicKey? {
        let firstPeer = attachments[first]
        let secondPeer = attachments[second]
        if firstPeer == secondPeer { return firstPeer }
        var candidates: [WireGuardPublicKey] = []
        if let secondPeer, directExits(of: first).contains(secondPeer) { candidates.append(secondPeer) }
        if let firstPeer, directExits(of: second).contains(firstPeer) { candidates.append(firstPeer) }
        return candidates.min()
    }

    /// The /128 of a member's overlay address (records are verified to carry the derived one)
    /// and the /32 of its IPv4 address when it has one.
    func hostPrefixes(of key: WireGuardPublicKey) -> [IPPrefix] {
        let address = members[key]?.record.address ?? OverlayAddress.derive(mesh: mesh, wireGuardKey: key)
        return Self.hostPrefixes(address, ipv4[key])
    }

    static func hostPrefixes(_ address: IPv6Address, _ ipv4: IPv4Address?) -> [IPPrefix] {
        let v6 = IPPrefix(address: .v6(address), length: 128)!
        guard let ipv4 else { return [v6] }
        return [v6, IPPrefix(address: .v4(ipv4), length: 32)!]
    }
}
