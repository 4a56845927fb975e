/// The owner-write rule, supplied by the caller and consulted before anything is merged.
///
/// GossipCRDT cannot check signatures (it never interprets payloads), so MeshCore plugs in the
/// check that a record is signed by its owner and a tombstone by its issuer. The store adds the
/// rules it can decide itself: newer-only, and no record at or below a removal.
public protocol RecordValidator: Sendable {
    func accept(_ record: MemberRecord) -> Bool
    /// `issuer` is the issuer's current record when the store has one, so a validator can find
    /// the signing key it needs.
    func accept(_ tombstone: Tombstone, issuer: MemberRecord?) -> Bool
    /// Whether `heartbeat.proof` is the signature of the member whose current record is
    /// `leader` (the epoch's leader). Heartbeats travel member to member, so only this proves
    /// the leader opened the epoch.
    func accept(_ heartbeat: Heartbeat, leader: MemberRecord) -> Bool
    /// Whether the member may lead heartbeat epochs. The leader must be reachable by every
    /// member (every acknowledgement goes to it), which a member behind NAT is not; a caller
    /// that knows which members are reachable says so here. Consulted once per accepted
    /// record, on already validated records.
    func canLead(_ record: MemberRecord) -> Bool
}

extension RecordValidator {
    /// Everybody may lead unless the validator knows better.
    public func canLead(_ record: MemberRecord) -> Bool { true }
}

/// For tests and the simulator, where every message is honest.
public struct AcceptAll: RecordValidator {
    public init() {}
    public func accept(_ record: MemberRecord) -> Bool { true }
    public func accept(_ tombstone: Tombstone, issuer: MemberRecord?) -> Bool { true }
    public func accept(_ heartbeat: Heartbeat, leader: MemberRecord) -> Bool { true }
}

/// Why an incoming record, tombstone or message was not merged. Counted for the daemon's metrics.
public enum RejectReason: String, Sendable, Hashable, CaseIterable {
    /// The validator refused it (bad signature, address not matching the key, ...).
    case invalid
    /// Not newer than what the store holds: a replay or plain redundancy.
    case stale
    /// A record at or below the version of the member's removal: stale gossip of a removed member.
    case removed
    /// A removal whose tombstone was compacted away; only its version floor is left.
    case compacted
    /// A `.left` tombstone issued by someone other than the leaver.
    case wrongIssuer
    /// A message outside the documented bounds of ``GossipLimits``.
    case malformed
    /// A version or epoch number above what the receiver can have been sent honestly: a
    /// tombstone above the version it removes, an epoch further ahead than the time elapsed
    /// allows, an acknowledgement of an epoch not yet opened.
    case outOfBounds
    /// Sent by a member not entitled to say it: a prune or heartbeat from a member that is not
    /// the leader, a probe that does not come from its epoch's leader, a bad heartbeat signature.
    case notEntitled
    /// A new identity refused because the store is full (`GossipConfig.maxMembers`) or new
    /// identities arrive faster than `GossipConfig.newMembersPerSecond`.
    case capacity
}

/// Rejection counters per reason.
public struct RejectionCounts: Sendable, Hashable {
    public private(set) var counts: [RejectReason: Int] = [:]

    public init() {}

    public subscript(reason: RejectReason) -> Int { counts[reason, default: 0] }

    public var total: Int { counts.values.reduce(0, +) }

    public mutating func add(_ reason: RejectReason, _ amount: Int = 1) {
        counts[reason, default: 0] += amount
    }
}
