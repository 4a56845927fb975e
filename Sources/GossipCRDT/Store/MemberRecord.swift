/// One member's own record, as replicated by the store.
///
/// `payload` is opaque here: MeshCore puts a signed node record in it (keys, endpoints, routes)
/// and checks it through a ``RecordValidator``. Only the owner writes its record, so `version` is
/// the owner's own counter; a higher version always wins.
public struct MemberRecord: Sendable, Hashable {
    public var owner: NodeID
    public var version: UInt64
    public var payload: [UInt8]

    public init(owner: NodeID, version: UInt64, payload: [UInt8]) {
        self.owner = owner
        self.version = version
        self.payload = payload
    }

    /// Total order used by merge: version first; equal versions (only an equivocating or
    /// state-losing owner makes them) fall back to the payload bytes so that replicas still agree.
    func supersedes(_ other: MemberRecord) -> Bool {
        if version != other.version { return version > other.version }
        return payload.lexicographicallyPrecedes(other.payload) == false && payload != other.payload
    }
}

/// Why a member left the view.
public enum TombstoneKind: UInt8, Sendable, Hashable, CaseIterable {
    /// Failed: issued by the leader after missed epochs. The member may come back with a strictly
    /// newer record version (a restart or a healed partition), and others keep re-dialling it.
    case pruned = 1
    /// Left on purpose: signed by the leaver itself. Nobody re-dials it.
    case left = 2
}

/// The removal of one member's record up to and including `version`.
///
/// A tombstone hides every record of `member` whose version is not greater than its own, which is
/// what stops stale gossip from resurrecting a pruned member.
public struct Tombstone: Sendable, Hashable {
    public var member: NodeID
    /// The highest record version of `member` that this removal covers.
    public var version: UInt64
    public var kind: TombstoneKind
    /// `member` itself for `.left`, the leader that saw the failure for `.pruned`.
    public var issuer: NodeID
    /// Opaque signature bytes over the other fields, made and checked by MeshCore.
    public var proof: [UInt8]

    public init(member: NodeID, version: UInt64, kind: TombstoneKind, issuer: NodeID, proof: [UInt8] = []) {
        self.member = member
        self.version = version
        self.kind = kind
        self.issuer = issuer
        self.proof = proof
    }

    /// Total order used by merge; every field takes part so that merge stays deterministic even
    /// for two removals of the same version.
    func supersedes(_ other: Tombstone) -> Bool {
        if version != other.version { return version > other.version }
        if kind != other.kind { return kind.rawValue > other.kind.rawValue }
        if issuer != other.issuer { return issuer < other.issuer }
        return proof.lexicographicallyPrecedes(other.proof) == false && proof != other.proof
    }
}

/// Everything the store knows about one member: the element of the add/remove map.
///
/// The pair is kept normalised: a record that the tombstone covers is dropped, so "present" is
/// simply "has a record". Normalising after a component-wise maximum is still a join, because a
/// dropped record is covered by every later tombstone too.
public struct MemberEntry: Sendable, Hashable {
    public let id: NodeID
    public private(set) var record: MemberRecord?
    public private(set) var tombstone: Tombstone?

    public init(id: NodeID, record: MemberRecord? = nil, tombstone: Tombstone? = nil) {
        self.id = id
        self.record = record
        self.tombstone = tombstone
        normalise()
    }

    /// The presence rule of the two-phase map: added and not removed by a newer-or-equal removal.
    public var isPresent: Bool { record != nil }

    /// The largest version of the member this entry knows about, live or removed.
    public var version: UInt64 { max(record?.version ?? 0, tombstone?.version ?? 0) }

    /// The lattice join of two states of the same member.
    public func merged(with other: MemberEntry) -> MemberEntry {
        MemberEntry(
            id: id,
            record: MemberEntry.newer(record, other.record) { $0.supersedes($1) },
            tombstone: MemberEntry.newer(tombstone, other.tombstone) { $0.supersedes($1) }
        )
    }

    /// The entry's position in its owner's history, for version vectors: twice the version, plus
    /// one when the newest thing known is a removal (a removal of version v comes after record v).
    public var clock: UInt64 {
        let removedOnTop = tombstone.map { $0.version >= (record?.version ?? 0) } ?? false
        return version &* 2 &+ (removedOnTop ? 1 : 0)
    }

    /// True when `self` holds something that `other` lacks.
    public func isAhead(of other: MemberEntry?) -> Bool {
        guard let other else { return true }
        return merged(with: other) != other
    }

    private mutating func normalise() {
        if let removed = tombstone?.version, let added = record?.version, added <= removed {
            record = nil
        }
    }

    private static func newer<T>(_ a: T?, _ b: T?, _ supersedes: (T, T) -> Bool) -> T? {
        guard let a else { return b }
        guard let b else { return a }
        return supersedes(b, a) ? b : a
    }
}

/// A batch of entries on the wire: the unit of every push and delta.
public struct Updates: Sendable, Hashable {
    public var records: [MemberRecord]
    public var tombstones: [Tombstone]

    public init(records: [MemberRecord] = [], tombstones: [Tombstone] = []) {
        self.records = records
        self.tombstones = tombstones
    }

    public var isEmpty: Bool { records.isEmpty && tombstones.isEmpty }
    public var count: Int { records.count + tombstones.count }

    public mutating func append(_ entry: MemberEntry) {
        if let record = entry.record { records.append(record) }
        if let tombstone = entry.tombstone { tombstones.append(tombstone) }
    }

    /// Regroups the batch per member, the shape merge works on.
    public var entries: [NodeID: MemberEntry] {
        var out: [NodeID: MemberEntry] = [:]
        for record in records {
            let entry = MemberEntry(id: record.owner, record: record)
            out[record.owner] = out[record.owner].map { $0.merged(with: entry) } ?? entry
        }
        for tombstone in tombstones {
            let entry = MemberEntry(id: tombstone.member, tombstone: tombstone)
            out[tombstone.member] = out[tombstone.member].map { $0.merged(with: entry) } ?? entry
        }
        return out
    }
}
