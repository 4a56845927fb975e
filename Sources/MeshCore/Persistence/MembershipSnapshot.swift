import GossipCRDT

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The member store as `members.json` holds it, and the way back.
///
/// Records alone are not enough across a restart: a pruned member's old record, replayed by
/// anyone after the restart, would be accepted again if the removal that hid it were not kept.
/// So the removals (tombstones) and the version floors left by compacted removals are written
/// too. The file is read as untrusted input even though this daemon wrote it: a disk, a backup
/// or another process may have changed it, so every entry is bounded and re-validated, and an
/// entry that fails is dropped on its own without costing the rest of the file.
public enum MembershipSnapshot {
    /// The highest version accepted from the file for a record, removal or floor. A version
    /// near 2^64 could never be exceeded by the owner's next record, locking it out for good.
    public static let maximumVersion = GossipLimits.maxVersion
    /// How many records, removals, floors and addresses are read, each: the store's own limit.
    public static let maximumEntries = GossipLimits.maxEntries

    public static func capture(_ store: MemberStore, lastAddresses: [String: String]) -> PersistedMembership {
        var records: [String] = []
        var tombstones: [PersistedTombstone] = []
        for entry in store.entries {
            if let record = entry.record { records.append(Data(record.payload).base64EncodedString()) }
            if let tombstone = entry.tombstone { tombstones.append(PersistedTombstone(tombstone)) }
        }
        var floors: [String: UInt64] = [:]
        for (id, version) in store.floors { floors[WireGuardPublicKey(nodeID: id).base64] = version }
        return PersistedMembership(
            records: records, lastAddresses: lastAddresses, tombstones: tombstones, floors: floors)
    }

    /// What came back from the file, and how much of it was refused.
    public struct Restored {
        var store = MemberStore()
        /// Where members were last heard from, for members named by a valid key.
        var addresses: [NodeID: Endpoint] = [:]
        /// Refusals by the store's rules and the validator (signatures, stale versions).
        var rejections = RejectionCounts()
        /// Entries dropped before the store saw them: undecodable, out of range, over the limit.
        var malformed = 0
        /// Removals whose issuer is not in the file, kept as floors instead.
        var floorsFromRemovals = 0

        var refused: Int { rejections.total + malformed }
    }

    /// Rebuilds a store from `saved`. Floors go first so that nothing at or below them gets in;
    /// then records, each re-verified; then removals, which need their issuer's record to be
    /// checked. A removal whose issuer is unknown (a member that left signs its own removal,
    /// and its record is gone with it) cannot be verified, so only its member and version are
    /// kept, as a floor: a floor never admits anything, it only refuses records at or below
    /// it, so an unverified one can at worst refuse records the owner has already superseded.
    /// A removal whose issuer is known but whose signature fails is dropped, never floored.
    public static func restore(
        _ saved: PersistedMembership, validator: some RecordValidator, limit: Int = maximumEntries
    ) -> Restored {
        var out = Restored()
        let floors = saved.floors ?? [:]
        out.malformed += max(0, floors.count - limit)
        for (key, version) in floors.sorted(by: { $0.key < $1.key }).prefix(limit) {
            guard let id = nodeID(key), (1...maximumVersion).contains(version) else {
                out.malformed += 1
                continue
            }
            out.store.compact(id, floor: version)
        }
        out.malformed += max(0, saved.records.count - limit)
        for text in saved.records.prefix(limit) {
            guard let record = memberRecord(text) else {
                out.malformed += 1
                continue
            }
            _ = out.store.merge(
                MemberEntry(id: record.owner, record: record), validator: validator, rejections: &out.rejections)
        }
        let tombstones = saved.tombstones ?? []
        out.malformed += max(0, tombstones.count - limit)
        for persisted in tombstones.prefix(limit) {
            guard let tombstone = persisted.tombstone() else {
                out.malformed += 1
                continue
            }
            if out.store.record(for: tombstone.issuer) != nil {
                _ = out.store.merge(
                    MemberEntry(id: tombstone.member, tombstone: tombstone), validator: validator,
                    rejections: &out.rejections)
            } else {
                out.store.compact(tombstone.member, floor: tombstone.version)
                out.floorsFromRemovals += 1
            }
        }
        out.malformed += max(0, saved.lastAddresses.count - limit)
        for (key, text) in saved.lastAddresses.sorted(by: { $0.key < $1.key }).prefix(limit) {
            guard let id = nodeID(key), let endpoint = Endpoint(text) else {
                out.malformed += 1
                continue
            }
            out.addresses[id] = endpoint
        }
        return out
    }

    public static func nodeID(_ base64: String) -> NodeID? {
        guard base64.utf8.count <= 64 else { return nil }
        return WireGuardPublicKey(base64: base64)?.nodeID
    }

    /// A record's store envelope from its signed bytes. The owner and version come from what
    /// the owner signed; the validator then checks that signature.
    private static func memberRecord(_ text: String) -> MemberRecord? {
        guard text.utf8.count <= (RecordLimits.maxEncodedSize + 2) / 3 * 4,
            let data = Data(base64Encoded: text), data.count <= RecordLimits.maxEncodedSize,
            let signed = try? SignedNodeRecord.decode(Array(data)), signed.record.version <= maximumVersion
        else { return nil }
        return MemberRecord(
            owner: signed.record.wireGuardKey.nodeID, version: signed.record.version, payload: Array(data))
    }
}

/// A removal in `members.json`: ids base64 as WireGuard shows keys, the kind by name.
public struct PersistedTombstone: Codable, Equatable, Sendable {
    public var member: String
    public var version: UInt64
    public var kind: String
    public var issuer: String
    /// The issuer's signature over the removal, base64.
    public var proof: String

    public init(member: String, version: UInt64, kind: String, issuer: String, proof: String) {
        self.member = member
        self.version = version
        self.kind = kind
        self.issuer = issuer
        self.proof = proof
    }

    public init(_ tombstone: Tombstone) {
        self.init(
            member: WireGuardPublicKey(nodeID: tombstone.member).base64, version: tombstone.version,
            kind: Self.name(of: tombstone.kind), issuer: WireGuardPublicKey(nodeID: tombstone.issuer).base64,
            proof: Data(tombstone.proof).base64EncodedString())
    }

    /// The removal, or nil when any field is out of range; its proof is checked by the store.
    public func tombstone() -> Tombstone? {
        guard let member = MembershipSnapshot.nodeID(member), let issuer = MembershipSnapshot.nodeID(issuer),
            let kind = TombstoneKind.allCases.first(where: { Self.name(of: $0) == self.kind }),
            (1...MembershipSnapshot.maximumVersion).contains(version),
            proof.utf8.count <= (GossipLimits.maxProofBytes + 2) / 3 * 4,
            let proof = Data(base64Encoded: proof)
        else { return nil }
        return Tombstone(member: member, version: version, kind: kind, issuer: issuer, proof: Array(proof))
    }

    private static func name(of kind: TombstoneKind) -> String {
        switch kind {
        case .pruned: return "pruned"
        case .left: return "left"
        }
    }
}
