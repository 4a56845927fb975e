/// What changed in the view, for the daemon (WireGuard peers, metrics) and the simulator.
public enum MembershipEvent: Sendable, Hashable {
    /// A member appeared: new, or back with a newer version after a removal.
    case joined(NodeID)
    /// A present member published a newer record.
    case updated(NodeID)
    /// The leader declared the member failed; it may come back.
    case pruned(NodeID)
    /// The member left on purpose.
    case left(NodeID)
    /// The leader this node follows changed (nil: none known).
    case leaderChanged(NodeID?)
    /// Our own record was removed or superseded (a prune while we were cut off, or state lost in
    /// a restart): publish a record with at least this version to come back.
    case republishNeeded(minimumVersion: UInt64)
}

/// Where a message goes: a member by id, or one of the bootstrap addresses by its index in the
/// list given to ``GossipEngine/setBootstrapPeers(count:)``.
public enum Destination: Sendable, Hashable {
    case member(NodeID)
    case bootstrap(Int)
}

public struct Outgoing: Sendable, Hashable {
    public var to: Destination
    public var message: GossipMessage

    public init(to: Destination, message: GossipMessage) {
        self.to = to
        self.message = message
    }
}

/// Signs what this node says in its own name beyond its record: the tombstones it issues (its own
/// leave, prunes while it leads) and the heartbeats it opens as leader. Supplied by MeshCore,
/// which holds the private key; the returned bytes become ``Tombstone/proof`` and
/// ``Heartbeat/proof``.
public protocol GossipSigner: Sendable {
    func proof(for tombstone: Tombstone) -> [UInt8]
    func proof(for heartbeat: Heartbeat) -> [UInt8]
}

/// For tests and the simulator.
public struct NoSignature: GossipSigner {
    public init() {}
    public func proof(for tombstone: Tombstone) -> [UInt8] { [] }
    public func proof(for heartbeat: Heartbeat) -> [UInt8] { [] }
}
