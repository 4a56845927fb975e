/// JSON bodies of the control API (`/v1/...` on smegd's Unix socket), shared by the daemon and
/// `smegctl` so the two cannot drift. Field names are part of the documented, stable interface
/// (docs/api.md); add fields, never rename them.
public enum ControlAPI {
    public static let version = "v1"
    /// Requests larger than this are refused with 413: no legitimate request comes near it.
    public static let maximumRequestBody = 64 * 1024
    /// Responses larger than this are refused by the client (a 10,000-member graph is ~5 MiB).
    public static let maximumResponseBody = 32 * 1024 * 1024
}

/// Every non-2xx response carries one of these.
public struct APIErrorBody: Codable, Sendable, Equatable {
    public var error: String
    public init(error: String) { self.error = error }
}

/// Options a node chooses for itself when it creates or joins a mesh.
public struct MeshOptions: Codable, Sendable, Equatable {
    /// "peer" (publicly reachable, full mesh) or "client" (behind NAT, attaches to one peer).
    public var role: String?
    public var listenPort: Int?
    /// Public endpoint other nodes should use, "HOST:PORT" or "[IPv6]:PORT".
    public var endpoint: String?
    /// Persistent keepalive in seconds; clients default to 25.
    public var keepalive: Int?
    public var advertiseRoutes: [String]?
    /// Advertise `::/0`: this node is an exit (the mesh's policy must allow exit nodes).
    public var advertiseDefaultRoute: Bool?
    public var alias: String?
    public var description: String?
    /// Advertise the other meshes this node is in (their members and routes) into this one, and
    /// forward between them (the mesh's policy must allow bridged meshes).
    public var bridge: Bool?

    public init(
        role: String? = nil, listenPort: Int? = nil, endpoint: String? = nil, keepalive: Int? = nil,
        advertiseRoutes: [String]? = nil, advertiseDefaultRoute: Bool? = nil, alias: String? = nil,
        description: String? = nil, bridge: Bool? = nil
    ) {
        self.role = role
        self.listenPort = listenPort
        self.endpoint = endpoint
        self.keepalive = keepalive
        self.advertiseRoutes = advertiseRoutes
        self.advertiseDefaultRoute = advertiseDefaultRoute
        self.alias = alias
        self.description = description
        self.bridge = bridge
    }
}

/// The routes a mesh's members accept from each other, fixed by its creator and carried in the
/// invite token so every member applies the same rule. Absent fields mean "no".
public struct RoutePolicyView: Codable, Sendable, Equatable {
    /// Members may advertise `::/0` (exit nodes).
    public var allowExitNodes: Bool?
    /// Members may advertise other meshes' prefixes (bridges).
    public var allowBridgedMeshes: Bool?
    /// Further prefixes members may advertise (and anything inside them), e.g. a LAN.
    public var allowedPrefixes: [String]?

    public init(allowExitNodes: Bool? = nil, allowBridgedMeshes: Bool? = nil, allowedPrefixes: [String]? = nil) {
        self.allowExitNodes = allowExitNodes
        self.allowBridgedMeshes = allowBridgedMeshes
        self.allowedPrefixes = allowedPrefixes
    }

    public init(_ policy: RoutePolicy) {
        self.init(
            allowExitNodes: policy.allowExitNodes ? true : nil,
            allowBridgedMeshes: policy.allowBridgedMeshes ? true : nil,
            allowedPrefixes: policy.allowedPrefixes.isEmpty ? nil : policy.allowedPrefixes.map(\.description))
    }

    /// The policy, or a message naming the first prefix that does not parse.
    public func policy() -> Result<RoutePolicy, RoutePolicyViewError> {
        var prefixes: [IPPrefix] = []
        for text in allowedPrefixes ?? [] {
            guard let prefix = IPPrefix(text) else { return .failure(RoutePolicyViewError(prefix: text)) }
            prefixes.append(prefix)
        }
        return .success(
            RoutePolicy(
                allowExitNodes: allowExitNodes ?? false, allowBridgedMeshes: allowBridgedMeshes ?? false,
                allowedPrefixes: prefixes))
    }
}

public struct RoutePolicyViewError: Error, Equatable, CustomStringConvertible {
    public var prefix: String
    public var description: String {
        "allowed prefix '\(prefix)' is not a prefix such as 192.168.1.0/24 or fd00:1::/64 (host bits must be zero)"
    }
}

public struct CreateMeshRequest: Codable, Sendable, Equatable {
    /// Optional human name, used in DNS names and the graph; the mesh id stays random.
    public var name: String?
    public var options: MeshOptions
    /// The mesh's route policy; nil accepts only prefixes inside the mesh's own /48.
    public var policy: RoutePolicyView?
    /// The members' IPv4 network ("100.64.7.0/24"), or "none" for IPv6 only; nil picks a free
    /// /16 of 100.64.0.0/10 (`IPv4PrefixChoice`).
    public var ipv4Prefix: String?

    public init(
        name: String? = nil, options: MeshOptions = MeshOptions(), policy: RoutePolicyView? = nil,
        ipv4Prefix: String? = nil
    ) {
        self.name = name
        self.options = options
        self.policy = policy
        self.ipv4Prefix = ipv4Prefix
    }
}

/// Join by invite token, or by mesh id + secret + bootstrap endpoints.
public struct JoinMeshRequest: Codable, Sendable, Equatable {
    public var token: String?
    public var meshId: String?
    /// The mesh secret, base64.
    public var secret: String?
    public var bootstrap: [String]?
    public var options: MeshOptions
    /// Accept a token without an owner's charter even though its route policy widens the
    /// default (exit nodes, bridged meshes, extra prefixes); absent is false.
    public var allowUnsignedSettings: Bool?

    public init(
        token: String? = nil, meshId: String? = nil, secret: String? = nil, bootstrap: [String]? = nil,
        options: MeshOptions = MeshOptions(), allowUnsignedSettings: Bool? = nil
    ) {
        self.token = token
        self.meshId = meshId
        self.secret = secret
        self.bootstrap = bootstrap
        self.options = options
        self.allowUnsignedSettings = allowUnsignedSettings
    }
}

/// One mesh as seen from this node.
public struct MeshSummary: Codable, Sendable, Equatable {
    public var meshId: String
    public var name: String?
    public var interface: String
    /// This node's overlay address in the mesh.
    public var address: String
    public var prefix: String
    public var role: String
    public var members: Int
    /// Short id of the current leader, nil while unknown.
    public var leader: String?
    public var isLeader: Bool
    /// The route policy every member applies.
    public var policy: RoutePolicyView?
    /// True when this node bridges its other meshes into this one.
    public var bridge: Bool?
    /// True when the mesh's owner signed its name and route policy; false for a mesh made before
    /// owners existed (or joined without a token that carries the charter), whose settings are
    /// only what this node stored. Absent from older daemons.
    public var settingsSigned: Bool?
    /// The owner's Ed25519 public key, base64, when the settings are signed.
    public var owner: String?
    /// This node's IPv4 overlay address ("100.64.3.7"); absent while it holds none (`MeshStatus`
    /// says why), for a mesh without an IPv4 network, and from older daemons.
    public var ipv4Address: String?
    /// The mesh's IPv4 network ("100.64.0.0/16"); absent for a mesh made before IPv4 overlays
    /// (or with `--ipv4-prefix none`) and from older daemons.
    public var ipv4Prefix: String?

    public init(
        meshId: String, name: String?, interface: String, address: String, prefix: String, role: String,
        members: Int, leader: String?, isLeader: Bool, policy: RoutePolicyView? = nil, bridge: Bool? = nil,
        settingsSigned: Bool? = nil, owner: String? = nil, ipv4Address: String? = nil, ipv4Prefix: String? = nil
    ) {
        self.meshId = meshId
        self.name = name
        self.interface = interface
        self.address = address
        self.prefix = prefix
        self.role = role
        self.members = members
        self.leader = leader
        self.isLeader = isLeader
        self.policy = policy
        self.bridge = bridge
        self.settingsSigned = settingsSigned
        self.owner = owner
        self.ipv4Address = ipv4Address
        self.ipv4Prefix = ipv4Prefix
    }
}

public struct CreateMeshResponse: Codable, Sendable, Equatable {
    public var mesh: MeshSummary
    /// Invite token (`smeg1-...`) another node passes to `smegctl join`.
    public var token: String

    public init(mesh: MeshSummary, token: String) {
        self.mesh = mesh
        self.token = token
    }
}

/// An invite: the token, and the same facts one by one for `smegctl join --mesh-id ID
/// --secret-file F --bootstrap HOST:PORT`. The extra fields are optional so that a client and a
/// daemon of different versions still understand each other; the token already carries the
/// secret, so they reveal nothing the token does not.
public struct InviteResponse: Codable, Sendable, Equatable {
    /// How every token starts (`InviteToken.prefix`).
    public static let tokenPrefix = "smeg1-"

    public var token: String
    public var meshId: String?
    /// The 32-byte mesh secret, base64 (what `--secret-file` reads).
    public var secret: String?
    /// This node's gossip endpoints, HOST:PORT, as in the token.
    public var bootstrap: [String]?
    /// For a mesh with owners: the invitation's limits (the token then carries no secret).
    public var invite: InviteView?

    public init(token: String, meshId: String? = nil, secret: String? = nil, bootstrap: [String]? = nil) {
        self.token = token
        self.meshId = meshId
        self.secret = secret
        self.bootstrap = bootstrap
    }
}

/// A route a member advertises, with the mesh ids it crossed (hop count = path length).
public struct RouteView: Codable, Sendable, Equatable {
    public var prefix: String
    public var path: [String]

    public init(prefix: String, path: [String]) {
        self.prefix = prefix
        self.path = path
    }
}

public struct MemberView: Codable, Sendable, Equatable {
    /// WireGuard public key, base64 (as `wg show` prints it).
    public var id: String
    public var shortId: String
    public var alias: String?
    public var description: String?
    public var address: String
    public var endpoints: [String]
    public var role: String
    /// Seconds since this node last heard of the member being alive; nil if never.
    public var lastSeenSeconds: Double?
    public var isLeader: Bool
    public var isSelf: Bool
    public var services: [String: String]
    public var routes: [RouteView]
    public var version: UInt64
    /// For clients: the short id of the peer they attach through.
    public var via: String?
    /// Set when the member's record claims an alias that is not its name (`alias` is then nil).
    public var aliasConflict: AliasConflictView?
    /// True for an owner of the mesh; absent otherwise.
    public var isOwner: Bool?
    /// Set while an evicted member is still in the store (until the leader prunes it).
    public var evicted: EvictionView?
    /// The member's IPv4 overlay address; absent when the mesh has no IPv4 network or the member
    /// holds no address in it (not yet given one, or displaced by a member admitted with it first).
    public var ipv4: String?
    /// How this node reaches the member: its own WireGuard session, or relays.
    public var path: PathView?
    /// The member's direct-path candidates, as its record publishes them.
    public var candidates: [String]?
    /// The tags owners gave the member (docs/acl.md); absent when it has none.
    public var tags: [String]?

    public init(
        id: String, shortId: String, alias: String?, description: String?, address: String, endpoints: [String],
        role: String, lastSeenSeconds: Double?, isLeader: Bool, isSelf: Bool, services: [String: String],
        routes: [RouteView], version: UInt64, via: String?, aliasConflict: AliasConflictView? = nil,
        ipv4: String? = nil
    ) {
        self.id = id
        self.shortId = shortId
        self.alias = alias
        self.description = description
        self.address = address
        self.endpoints = endpoints
        self.role = role
        self.lastSeenSeconds = lastSeenSeconds
        self.isLeader = isLeader
        self.isSelf = isSelf
        self.services = services
        self.routes = routes
        self.version = version
        self.via = via
        self.aliasConflict = aliasConflict
        self.ipv4 = ipv4
    }
}

/// A member whose record claims an alias it does not get: names are unique (docs/dns.md), so a
/// claim shaped like a short id is void, and an alias several members claim is void for all of
/// them. Shown so that an operator sees a member reaching for another's name, or learns that
/// this node's own alias is contested and whom to talk to.
public struct AliasConflictView: Codable, Sendable, Equatable {
    /// The member making the claim.
    public var shortId: String
    /// The alias its record claims.
    public var alias: String
    /// Short ids of the other members claiming the same alias, ascending; absent when the claim
    /// is void for another reason. Every one listed is refused too: a contested alias has no
    /// holder, so the field names rivals, not a winner.
    public var contestedWith: [String]?
    /// Why the claim is void, in words.
    public var reason: String

    public init(shortId: String, alias: String, contestedWith: [String]?, reason: String) {
        self.shortId = shortId
        self.alias = alias
        self.contestedWith = contestedWith
        self.reason = reason
    }
}

public struct MeshDetail: Codable, Sendable, Equatable {
    public var mesh: MeshSummary
    public var members: [MemberView]
    /// How this node reaches each advertised prefix (absent from older daemons).
    public var routing: [RouteChoiceView]?
    /// Members no longer present, told apart: evicted (by an owner, for good), left (by
    /// themselves) or pruned (missed heartbeats; they come back when they return).
    public var removed: [RemovedMemberView]?

    public init(mesh: MeshSummary, members: [MemberView], routing: [RouteChoiceView]? = nil) {
        self.mesh = mesh
        self.members = members
        self.routing = routing
    }
}

/// One prefix this node routes into the mesh: the advertiser it picked, and the member whose
/// WireGuard session carries the traffic (the same, or a peer in between).
public struct RouteChoiceView: Codable, Sendable, Equatable {
    public var prefix: String
    /// Short id of the chosen advertiser; nil when a client leaves the choice to its peer.
    public var exit: String?
    /// Short id of the next hop.
    public var via: String
    /// Hops in meshes the advertisement crossed (0 for a prefix the advertiser serves).
    public var hopCount: Int

    public init(prefix: String, exit: String?, via: String, hopCount: Int) {
        self.prefix = prefix
        self.exit = exit
        self.via = via
        self.hopCount = hopCount
    }
}

public struct MeshListResponse: Codable, Sendable, Equatable {
    public var meshes: [MeshSummary]
    public init(meshes: [MeshSummary]) { self.meshes = meshes }
}

/// Everything `smegctl graph` needs: every mesh with its members.
public struct GraphResponse: Codable, Sendable, Equatable {
    public var meshes: [MeshDetail]
    public init(meshes: [MeshDetail]) { self.meshes = meshes }
}

/// Body of the alias, description and service-value setters.
public struct SetValueRequest: Codable, Sendable, Equatable {
    public var value: String
    public init(value: String) { self.value = value }
}
