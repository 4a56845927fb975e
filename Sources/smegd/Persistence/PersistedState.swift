import MeshCore

/// What smegd keeps about one mesh across restarts (`mesh.json`, mode 0600: it holds the secret).
///
/// Plain strings rather than domain types so that the file format is stable and readable by
/// an operator; the daemon validates every field when it loads the mesh.
struct PersistedMesh: Codable, Equatable, Sendable {
    static let currentFormat = 1

    var format = PersistedMesh.currentFormat
    var meshId: String
    var name: String?
    /// The 32-byte mesh secret, base64.
    var secret: String
    var options: MeshOptions
    /// Endpoints from the invite token, tried until the node knows any member.
    var bootstrap: [String]
    /// Services this node advertises in the mesh (name -> value).
    var services: [String: String] = [:]
    /// The mesh's route policy, from `create` or the invite token; nil is the default policy.
    var policy: RoutePolicyView?
    /// The owner-signed charter (`MeshCharter.bytes`, base64), verified again at every start
    /// against the mesh id, `name` and `policy`; nil for a mesh made before owners existed, so
    /// older files still load.
    var charter: String?
}

/// The last membership this node saw (`members.json`): enough to bring WireGuard up at once
/// after a restart and to re-dial remembered members when the bootstrap node is gone.
struct PersistedMembership: Codable, Equatable, Sendable {
    static let currentFormat = 1

    var format = PersistedMembership.currentFormat
    /// Owner-signed records as the wire codec encodes them, base64; re-validated on load.
    var records: [String]
    /// The gossip address ("HOST:PORT") each member was last heard from, by base64 key: how a
    /// restarted node finds members that publish no endpoint, or moved.
    var lastAddresses: [String: String]
    /// Removals the store holds, so a removed member's old records stay refused after a
    /// restart. Absent in files of older daemons, which kept no removals.
    var tombstones: [PersistedTombstone]?
    /// Version floors of compacted removals by base64 key: records at or below them are refused.
    /// Absent in files of older daemons.
    var floors: [String: UInt64]?
    /// The highest frame counter this node has used (FrameSession.counterHighWater): counters
    /// start above it after a restart, so members' replay windows accept our frames even when
    /// the wall clock went back. Absent in files of older daemons.
    var frameCounter: UInt64?
    /// The heartbeat epoch line when saved (GossipEngine.epochMemory), so that a restarted
    /// node's epoch bound still admits the mesh's leader. Absent in files of older daemons and
    /// before this node knew the line.
    var epochs: PersistedEpochs?
}

/// `EpochMemory` with the wall-clock time it was saved at: the downtime is measured from it.
struct PersistedEpochs: Codable, Equatable, Sendable {
    var highest: UInt64
    var line: UInt64
    /// Milliseconds since 1970 when saved.
    var savedAt: UInt64
}
