import GossipCRDT

/// Who forwards what in one mesh, computed from the present members' records alone.
///
/// Every node computes the same topology from the same membership, so the decisions below need
/// no coordination: once gossip converges, both ends of every WireGuard session agree that it
/// exists and which addresses it carries.
///
/// - Peers (reachable) form a full mesh.
/// - A client (behind NAT) attaches to one live peer chosen by rendezvous hashing over the
///   peers; every other node reaches it through that peer.
/// - For an advertised prefix, only the advertisers with the shortest path count. A client
///   picks one advertiser per prefix by rendezvous hashing on (prefix, client) among those that
///   are peers and talks to it directly; a peer picks per (prefix, peer) among all of them.
///   That splits clients and peers over equal exits instead of sending everyone to one.
/// - Loop freedom: traffic for a prefix crosses at most two peers. A peer that has an
///   advertiser of the prefix attached (a client of its own) delivers to it and never forwards
///   to another peer, and every other peer forwards straight to such a peer or to an advertiser.
public struct MeshTopology: Sendable {
    public struct Member: Sendable {
        public let record: NodeRecord
        let word: UInt64
        public var key: WireGuardPublicKey { record.wireGuardKey }
        public var isPeer: Bool { record.role == .peer }
    }

    /// The shortest advertisements of one prefix.
    struct Advertised: Sendable {
        var hopCount: Int
        var advertisers: [WireGuardPublicKey]
    }

    public let mesh: MeshID
    public let members: [WireGuardPublicKey: Member]
    /// The mesh's IPv4 network, and the members' IPv4 overlay addresses (members without one
    /// are reached over IPv6 only).
    public let ipv4Prefix: IPPrefix?
    public let ipv4: [WireGuardPublicKey: IPv4Address]
    /// Peers sorted by key.
    public let peers: [WireGuardPublicKey]
    /// Each client's peer; absent while the mesh has no peer.
    public let attachments: [WireGuardPublicKey: WireGuardPublicKey]
    let prefixes: [IPPrefix: Advertised]
    /// `directExits(of:)` of every client, computed once: building a node's sessions asks for
    /// it per client pair.
    private var exitsOfClients: [WireGuardPublicKey: Set<WireGuardPublicKey>] = [:]
    /// The access policy over these members: pairs it gives no flow at all get no session
    /// (`MeshTopology+Access`).
    public let access: AccessGate
    /// Which member each host prefix (`hostPrefixes(of:)`) belongs to.
    let hosts: [IPPrefix: WireGuardPublicKey]

    public init(
        mesh: MeshID, members records: [NodeRecord], ipv4Prefix: IPPrefix? = nil,
        ipv4: [WireGuardPublicKey: IPv4Address] = [:], access policy: AccessPolicy = .everyoneReachesEveryone,
        tags: [NodeID: [AccessTag]] = [:]
    ) {
        self.mesh = mesh
        self.access = AccessGate(policy: policy, tags: tags, members: records.map(\.wireGuardKey.nodeID))
        self.ipv4Prefix = ipv4Prefix
        self.ipv4 = ipv4Prefix == nil ? [:] : ipv4
        var members: [WireGuardPublicKey: Member] = [:]
        for record in records {
            members[record.wireGuardKey] = Member(record: record, word: Rendezvous.word(of: record.wireGuardKey))
        }
        self.members = members
        var hosts: [IPPrefix: WireGuardPublicKey] = [:]
        for record in records {
            for prefix in Self.hostPrefixes(record.address, self.ipv4[record.wireGuardKey]) {
                hosts[prefix] = record.wireGuardKey
            }
        }
        self.hosts = hosts
        let peers = members.values.filter(\.isPeer).map(\.key).sorted()
        self.peers = peers
        var attachments: [WireGuardPublicKey: WireGuardPublicKey] = [:]
        for member in members.values where !member.isPeer {
            attachments[member.key] = Rendezvous.choose(chooser: member.word, among: peers, purpose: .attachment)
        }
        self.attachments = attachments
        let meshNetworks = [OverlayAddress.meshPrefix(of: mesh)] + (ipv4Prefix.map { [$0] } ?? [])
        let addressed = self.ipv4
        var prefixes: [IPPrefix: Advertised] = [:]
        for member in members.values {
            // A prefix overlapping the members' /64 could capture a member's address; records
            // carrying one are refused by the route policy anyway. Default routes cover it by
            // definition and are kept: the members' more specific routes still win. An IPv4
            // exit counts once it has an IPv4 address (without one it has no route back to the
            // members' IPv4 addresses), and only in its own mesh: an exit of another mesh
            // masquerades that mesh's IPv4 network, not this one's, and no bridge carries the
            // IPv4 networks of meshes.
            for route in member.record.routes {
                if route.prefix == .ipv4Default {
                    guard route.path.isEmpty, addressed[member.key] != nil else { continue }
                } else if !route.prefix.isDefaultRoute, meshNetworks.contains(where: route.prefix.overlaps) {
                    continue
                }
                let hops = route.hopCount
                if let current = prefixes[route.prefix], current.hopCount < hops { continue }
                if let current = prefixes[route.prefix], current.hopCount == hops {
                    prefixes[route.prefix]!.advertisers.append(member.key)
                } else {
                    prefixes[route.prefix] = Advertised(hopCount: hops, advertisers: [member.key])
                }
            }
        }
        for prefix in prefixes.keys { prefixes[prefix]!.advertisers.sort() }
        self.prefixes = prefixes
        for member in members.values where !member.isPeer {
            var exits = Set<WireGuardPublicKey>()
            for prefix in prefixes.keys {
                if let exit = exit(for: prefix, chooser: member.key), exit != attachments[member.key] {
                    exits.insert(exit)
                }
            }
            if !exits.isEmpty { exitsOfClients[member.key] = exits }
        }
    }

    // MARK: Decisions every node agrees on

    /// The peer through which a member is reached: itself for a peer, its attachment for a client.
    public func gateway(of key: WireGuardPublicKey) -> WireGuardPublicKey? {
        guard let member = members[key] else { return nil }
        return member.isPeer ? key : attachments[key]
    }

    /// Prefixes somebody advertises, in a stable order.
    public var advertisedPrefixes: [IPPrefix] { prefixes.keys.sorted() }

    /// The shortest-path advertisers of `prefix`, sorted by key.
    public func advertisers(of prefix: IPPrefix) -> [WireGuardPublicKey] {
        prefixes[prefix]?.advertisers ?? []
    }

    /// The path length of the shortest advertisements of `prefix`.
    public func hopCount(of prefix: IPPrefix) -> Int? {
        prefixes[prefix]?.hopCount
    }

    /// The advertiser `chooser` sends `prefix` to, or nil when it serves the prefix itself or
    /// nobody does. For a client this is a peer it talks to directly, or nil when only clients
    /// advertise the prefix (then it goes through its own attachment, see `nextHop`).
    public func exit(for prefix: IPPrefix, chooser: WireGuardPublicKey) -> WireGuardPublicKey? {
        guard let me = members[chooser], let advertised = prefixes[prefix], !advertises(me, prefix),
            takes(prefix, chooser)
        else {
            return nil
        }
        let word = Rendezvous.weight(chooser: me.word, candidate: Rendezvous.word(of: prefix), purpose: .route)
        if !me.isPeer {
            let reachable = advertised.advertisers.filter { members[$0]?.isPeer == true }
            return Rendezvous.choose(chooser: word, among: reachable, purpose: .route)
        }
        let local = advertised.advertisers.filter { attachments[$0] == chooser }
        return Rendezvous.choose(chooser: word, among: local.isEmpty ? advertised.advertisers : local, purpose: .route)
    }

    /// The member whose WireGuard session carries `chooser`'s traffic for `prefix`.
    public func nextHop(for prefix: IPPrefix, chooser: WireGuardPublicKey) -> WireGuardPublicKey? {
        guard let me = members[chooser], prefixes[prefix] != nil, !advertises(me, prefix), takes(prefix, chooser) else {
            return nil
        }
        guard let exit = exit(for: prefix, chooser: chooser) else {
            return me.isPeer ? nil : attachments[chooser]
        }
        if me.isPeer, attachments[exit] == chooser { return exit }
        return gateway(of: exit)
    }

    /// Peers a client talks to directly besides its attachment: the exits it picked.
    public func directExits(of client: WireGuardPublicKey) -> Set<WireGuardPublicKey> {
        exitsOfClients[client] ?? []
    }

    /// A member without an IPv4 overlay address leaves `0.0.0.0/0` alone: its IPv4 packets would
    /// enter the mesh with a source of another interface, which the exit does not masquerade
    /// (it masquerades the mesh's IPv4 network only) and the internet could not answer.
    private func takes(_ prefix: IPPrefix, _ chooser: WireGuardPublicKey) -> Bool {
        prefix != .ipv4Default || ipv4[chooser] != nil
    }

    private func advertises(_ member: Member, _ prefix: IPPrefix) -> Bool {
        member.record.routes.contains { $0.prefix == prefix }
    }
}
