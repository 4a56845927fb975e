/// JSON bodies of `GET /v1/status` (`smegctl status`): one entry per mesh, started or not, and
/// what an operator needs to see at 3 a.m. (errors, warnings, reconnecting). Same rules as
/// ControlAPITypes.swift: add fields, never rename them (docs/api.md).
public struct MeshStatus: Codable, Sendable, Equatable {
    public var meshId: String
    public var interface: String
    public var members: Int
    public var leader: String?
    public var lastSyncSecondsAgo: Double?
    public var lastError: String?
    /// Members claiming an alias they do not get, absent when there are none.
    public var aliasConflicts: [AliasConflictView]?
    /// As in `MeshSummary`.
    public var settingsSigned: Bool?
    /// False when the mesh's state is on this node but it could not be started (`lastError` says
    /// why and what to do); absent from older daemons, which list only running meshes.
    public var started: Bool?
    /// Short ids of members whose frames are still version 1 (an older smegmesh): refused until
    /// they are upgraded. Absent when there are none.
    public var oldFrameVersion: [String]?
    /// How many owners the mesh has, and whether this node is one; absent for a mesh without
    /// owners (made before they existed).
    public var owners: Int?
    public var isOwner: Bool?
    /// Things an operator should act on that are not errors (a single owner, say).
    public var warnings: [String]?
    /// Set when an owner evicted this node from the mesh: the mesh is torn down here.
    public var evicted: EvictionView?
    /// Which rotation of the mesh secret this node uses (0: the one made at `create`).
    public var secretGeneration: UInt64?
    /// Why this node has no IPv4 overlay address in a mesh that has an IPv4 network (not yet given
    /// one, or another member holds the one it was given), and what happens next; absent when
    /// it has one or the mesh has no IPv4 network.
    public var ipv4Problem: String?
    /// While this node catches up after being away, a network change or a prune, or hears no
    /// member for a while: since when and why; absent otherwise.
    public var reconnecting: ReconnectingView?
    /// How this node reaches the mesh's other members (direct, punching, relayed); absent from
    /// older daemons.
    public var paths: PathCounts?

    public init(
        meshId: String, interface: String, members: Int, leader: String?, lastSyncSecondsAgo: Double?,
        lastError: String?, aliasConflicts: [AliasConflictView]? = nil, settingsSigned: Bool? = nil,
        started: Bool? = nil, oldFrameVersion: [String]? = nil
    ) {
        self.oldFrameVersion = oldFrameVersion
        self.meshId = meshId
        self.interface = interface
        self.members = members
        self.leader = leader
        self.lastSyncSecondsAgo = lastSyncSecondsAgo
        self.lastError = lastError
        self.aliasConflicts = aliasConflicts
        self.settingsSigned = settingsSigned
        self.started = started
    }
}

public struct ReconnectingView: Codable, Sendable, Equatable {
    /// Milliseconds since 1970, by this node's clock.
    public var sinceMillis: UInt64
    public var reason: String

    public init(sinceMillis: UInt64, reason: String) {
        self.sinceMillis = sinceMillis
        self.reason = reason
    }
}

public struct StatusResponse: Codable, Sendable, Equatable {
    public var version: String
    /// "kernel", "userspace" or "none" (control-plane-only).
    public var backend: String
    public var uptimeSeconds: Double
    public var meshes: [MeshStatus]

    public init(version: String, backend: String, uptimeSeconds: Double, meshes: [MeshStatus]) {
        self.version = version
        self.backend = backend
        self.uptimeSeconds = uptimeSeconds
        self.meshes = meshes
    }
}

/// The path this node's packets for one member take.
public struct PathView: Codable, Sendable, Equatable {
    /// "self", "direct" (a WireGuard session of its own with the member: peers with each other,
    /// a client with its peer or exit, a punched pair), "punching" (relayed while a direct path
    /// is tried), "relayed", or "denied" (the access policy allows no flow between the two, so
    /// they have no path at all).
    public var kind: String
    /// The relays' short ids, in the order packets cross them.
    public var via: [String]
    /// Where WireGuard sends to the member, when direct.
    public var endpoint: String?
    /// Why the pair relays, when it does.
    public var reason: String?
    /// Seconds since the path last changed, when known.
    public var sinceSeconds: Double?

    public init(
        kind: String, via: [String] = [], endpoint: String? = nil, reason: String? = nil, sinceSeconds: Double? = nil
    ) {
        self.kind = kind
        self.via = via
        self.endpoint = endpoint
        self.reason = reason
        self.sinceSeconds = sinceSeconds
    }
}

/// How many of a mesh's other members this node reaches each way (`MeshStatus.paths`), counted
/// from the same `PathView`s that `GET /v1/meshes/{mesh}` shows.
public struct PathCounts: Codable, Sendable, Equatable {
    public var direct: Int
    public var punching: Int
    public var relayed: Int

    public init(direct: Int = 0, punching: Int = 0, relayed: Int = 0) {
        self.direct = direct
        self.punching = punching
        self.relayed = relayed
    }

    /// Counts the paths of other members; this node's own ("self"), "denied" and unknown kinds
    /// are left out.
    public init(_ paths: [PathView]) {
        self.init()
        for path in paths {
            switch path.kind {
            case "direct": direct += 1
            case "punching": punching += 1
            case "relayed": relayed += 1
            default: continue
            }
        }
    }
}
