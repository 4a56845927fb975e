/// The access policy's part in routing: WireGuard's cryptokey routing is the first place it is
/// enforced, because a prefix a session does not carry is neither sent into it nor accepted
/// from it, whatever the other end (or a stolen key) sends.
///
/// A node keeps, of the sessions the topology gives it, only the prefixes some member whose
/// traffic it carries may exchange anything with:
///
/// - a member's host prefixes (its /128 and /32) when this node, or one of the clients it
///   relays, may connect to that member (`AccessPolicy.mayConnect`, symmetric);
/// - an advertised prefix when one of them may connect to the advertiser that serves it (a
///   rule whose destination is a member covers the routes it advertises);
/// - the mesh networks a client's session with its peer carries, always: everything the
///   client exchanges with anyone goes through it, so the receivers' and relays' filters
///   (`AccessFilter`) enforce what that session cannot.
///
/// A session left with nothing is not configured at all. Both ends of a pair compute the same
/// thing: what one end keeps for a source the other end keeps for it as a destination, since
/// `mayConnect` is symmetric and a relay counts the clients it carries on both sides.
extension MeshTopology {
    /// Whether `a` and `b` may have any WireGuard session under the policy.
    public func mayConnect(_ a: WireGuardPublicKey, _ b: WireGuardPublicKey) -> Bool {
        access.mayConnect(a.nodeID, b.nodeID)
    }

    /// The members whose traffic enters the mesh through `me`: itself, and for a peer the
    /// clients it has a session with (attached to it, or using it as an exit or a relay).
    func carried(by me: WireGuardPublicKey, sessions: [WireGuardPublicKey: [IPPrefix]]) -> [WireGuardPublicKey] {
        guard members[me]?.isPeer == true else { return [me] }
        return [me] + sessions.keys.filter { members[$0]?.isPeer == false }.sorted()
    }

    /// The networks every member's address is in: what a client's session with its peer carries.
    var meshNetworks: [IPPrefix] { [OverlayAddress.meshPrefix(of: mesh)] + (ipv4Prefix.map { [$0] } ?? []) }

    func restrict(_ routing: inout NodeRouting, for me: WireGuardPublicKey) {
        guard !access.isOpen, let member = members[me] else { return }
        // Whose traffic this node sends into its sessions: its own, and that of the clients
        // attached to a peer which reach the destination through it (not directly, through an
        // exit they picked, nor through another relay). A client that only uses this peer as
        // an exit sends it traffic for the routes, which leaves the mesh here, and for the
        // clients this peer relays it to.
        let attached = member.isPeer ? routing.sessions.keys.filter { attachments[$0] == me }.sorted() : []
        let networks = meshNetworks
        var droppedRoutes = Set<IPPrefix>()
        for (key, prefixes) in routing.sessions {
            let kept = prefixes.filter { prefix in
                if networks.contains(prefix) { return true }
                guard let owner = hosts[prefix] else {
                    let ends = exit(for: prefix, chooser: me).map { [$0] } ?? advertisers(of: prefix)
                    let senders = [me] + attached.filter { exit(for: prefix, chooser: $0) == nil }
                    return senders.contains { sender in ends.contains { mayConnect(sender, $0) } }
                }
                if mayConnect(me, owner) { return true }
                if member.isPeer, owner == key, members[owner]?.isPeer == false {
                    // Its own session: an attached client always (everything it exchanges
                    // passes here); a client using this peer as an exit while this peer
                    // relays it to a client it may reach.
                    return attachments[owner] == me
                        || members.keys.contains { other in
                            other != owner && relay(between: owner, and: other) == me && mayConnect(owner, other)
                        }
                }
                return attached.contains { client in
                    reaches(owner, from: client, through: me) && mayConnect(client, owner)
                }
            }
            routing.sessions[key] = kept.isEmpty ? nil : kept
            for prefix in prefixes where hosts[prefix] == nil && !kept.contains(prefix) { droppedRoutes.insert(prefix) }
        }
        routing.routes.removeAll(where: droppedRoutes.contains)
    }

    /// Whether `client`, attached to `peer`, sends its traffic for `destination` through it:
    /// not when it talks to that peer directly (an exit it picked) or through another relay.
    private func reaches(
        _ destination: WireGuardPublicKey, from client: WireGuardPublicKey, through peer: WireGuardPublicKey
    ) -> Bool {
        guard members[destination]?.isPeer == false else { return !directExits(of: client).contains(destination) }
        let relay = relay(between: client, and: destination)
        return relay == nil || relay == peer
    }
}
