/// What smegd keeps about one mesh across restarts (`mesh.json`, mode 0600: it holds the secret).
///
/// Plain strings rather than domain types so that the file format is stable and readable by
/// an operator; the daemon validates every field when it loads the mesh.
public struct PersistedMesh: Codable, Equatable, Sendable {
    public static let currentFormat = 1

    public var format = PersistedMesh.currentFormat
    public var meshId: String
    public var name: String?
    /// The 32-byte mesh secret, base64.
    public var secret: String
    public var options: MeshOptions
    /// Endpoints from the invite token, tried until the node knows any member.
    public var bootstrap: [String]
    /// Services this node advertises in the mesh (name -> value).
    public var services: [String: String] = [:]
    /// The mesh's route policy, from `create` or the invite token; nil is the default policy.
    public var policy: RoutePolicyView?
    /// The owner-signed charter (`MeshCharter.bytes`, base64), verified again at every start
    /// against the mesh id, `name` and `policy`; nil for a mesh made before owners existed, so
    /// older files still load.
    public var charter: String?
    /// The admission an owner granted this node when it redeemed an invite
    /// (`OwnerStatement.bytes`, base64): its record carries it. Nil for the founder (the
    /// ledger admits it) and in meshes made before admissions.
    public var admission: String?
    /// Which rotation `secret` is (0 or absent: the secret made at `create`).
    public var secretGeneration: UInt64?

    public init(
        format: Int = PersistedMesh.currentFormat, meshId: String, name: String? = nil, secret: String,
        options: MeshOptions,
        bootstrap: [String], services: [String: String] = [:], policy: RoutePolicyView? = nil, charter: String? = nil
    ) {
        self.format = format
        self.meshId = meshId
        self.name = name
        self.secret = secret
        self.options = options
        self.bootstrap = bootstrap
        self.services = services
        self.policy = policy
        self.charter = charter
    }
}

/// The last membership this node saw (`members.json`): enough to bring WireGuard up at once
/// after a restart and to re-dial remembered members when the bootstrap node is gone.
public struct PersistedMembership: Codable, Equatable, Sendable {
    public static let currentFormat = 1

    public var format = PersistedMembership.currentFormat
    /// Owner-signed records as the wire codec encodes them, base64; re-validated on load.
    public var records: [String]
    /// The gossip address ("HOST:PORT") each member was last heard from, by base64 key: how a
    /// restarted node finds members that publish no endpoint, or moved.
    public var lastAddresses: [String: String]
    /// Removals the store holds, so a removed member's old records stay refused after a
    /// restart. Absent in files of older daemons, which kept no removals.
    public var tombstones: [PersistedTombstone]?
    /// Version floors of compacted removals by base64 key: records at or below them are refused.
    /// Absent in files of older daemons.
    public var floors: [String: UInt64]?
    /// The highest frame counter this node has used (FrameSession.counterHighWater): counters
    /// start above it after a restart, so members' replay windows accept our frames even when
    /// the wall clock went back. Absent in files of older daemons.
    public var frameCounter: UInt64?
    /// The heartbeat epoch line when saved (GossipEngine.epochMemory), so that a restarted
    /// node's epoch bound still admits the mesh's leader. Absent in files of older daemons and
    /// before this node knew the line.
    public var epochs: PersistedEpochs?
    /// The owner statements this node holds (`OwnerStatement.bytes`, base64), re-verified on
    /// load. Absent in files of older daemons and of meshes without owners.
    public var ledger: [String]?

    public init(
        format: Int = PersistedMembership.currentFormat, records: [String], lastAddresses: [String: String],
        tombstones: [PersistedTombstone]? = nil, floors: [String: UInt64]? = nil, frameCounter: UInt64? = nil,
        epochs: PersistedEpochs? = nil, ledger: [String]? = nil
    ) {
        self.format = format
        self.records = records
        self.lastAddresses = lastAddresses
        self.tombstones = tombstones
        self.floors = floors
        self.frameCounter = frameCounter
        self.epochs = epochs
        self.ledger = ledger
    }
}

/// `EpochMemory` with the wall-clock time it was saved at: the downtime is measured from it.
public struct PersistedEpochs: Codable, Equatable, Sendable {
    public var highest: UInt64
    public var line: UInt64
    /// Milliseconds since 1970 when saved.
    public var savedAt: UInt64

    public init(highest: UInt64, line: UInt64, savedAt: UInt64) {
        self.highest = highest
        self.line = line
        self.savedAt = savedAt
    }
}
