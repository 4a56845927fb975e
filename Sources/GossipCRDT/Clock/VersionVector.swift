/// One counter per writer: how far into each member's history a replica has seen.
///
/// Records are written only by their owner, so the owner's version is the writer's counter; the
/// counter is ``MemberEntry/clock`` (version and whether a removal is on top), which is enough to
/// compute what a replica lacks (``MemberStore/delta(since:)``). Two different payloads at one
/// version (an equivocating owner) are invisible to a vector; the digest exchange still sees them.
public struct VersionVector: Sendable, Hashable {
    public private(set) var counters: [NodeID: UInt64] = [:]

    public init() {}

    public subscript(id: NodeID) -> UInt64 {
        get { counters[id] ?? 0 }
        set { counters[id] = newValue == 0 ? nil : newValue }
    }

    /// Pointwise maximum: the vector of the merged replica.
    public func merged(with other: VersionVector) -> VersionVector {
        var out = self
        for (id, version) in other.counters where version > out[id] { out[id] = version }
        return out
    }

    /// True when this replica has seen everything `other` has.
    public func dominates(_ other: VersionVector) -> Bool {
        other.counters.allSatisfy { self[$0.key] >= $0.value }
    }
}
