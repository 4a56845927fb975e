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
            routing.sessions[attachment] = [OverlayAddress.meshPrefix(of: mesh)]
        }
        for prefix in advertisedPrefixes {
            guard let hop = nextHop(for: prefix, chooser: me) else { continue }
            if routing.sessions[hop] == nil { routing.sessions[hop] = [hostPrefix(of: hop)] }
            routing.sessions[hop]!.append(prefix)
            routing.routes.append(prefix)
        }
        if !member.isPeer { addExitClients(me, to: &routing) }
        let advertisesAny = !member.record.routes.isEmpty
        let relaysClients = member.isPeer && routing.sessions.keys.contains { members[$0]?.isPeer == false }
        routing.forwards = advertisesAny || relaysClients
        routing.forwardsIPv4 =
            routing.forwards
            && prefixes.keys.contains { prefix in
                if case .v4 = prefix.address { return true }
                return false
            }
        return routing
    }

    /// A peer talks to every other peer, to its own clients, and to clients that picked it as
    /// an exit; every other client is reached through that client's attachment.
    private func addPeerSessions(_ me: WireGuardPublicKey, to routing: inout NodeRouting) {
        for peer in peers where peer != me { routing.sessions[peer] = [hostPrefix(of: peer)] }
        for (client, member) in members where !member.isPeer {
            let host = hostPrefix(of: client)
            if attachments[client] == me || directExits(of: client).contains(me) {
                routing.sessions[client, default: []].append(host)
            } else if let attachment = attachments[client] {
                routing.sessions[attachment, default: []].append(host)
            }
        }
    }

    /// A client that talks to an exit directly must also reach the exit's own clients through
    /// it: the exit sends to this client directly, so replies from its clients arrive on that
    /// session, and WireGuard accepts only sources listed on the session they arrive on.
    private func addExitClients(_ me: WireGuardPublicKey, to routing: inout NodeRouting) {
        for exit in routing.sessions.keys where exit != attachments[me] && members[exit]?.isPeer == true {
            for (client, peer) in attachments where peer == exit && client != me {
                routing.sessions[exit]!.append(hostPrefix(of: client))
            }
        }
    }

    /// The /128 of a member's overlay address (records are verified to carry the derived one).
    func hostPrefix(of key: WireGuardPublicKey) -> IPPrefix {
        let address = members[key]?.record.address ?? OverlayAddress.derive(mesh: mesh, wireGuardKey: key)
        return IPPrefix(address: .v6(address), length: 128)!
    }
}
