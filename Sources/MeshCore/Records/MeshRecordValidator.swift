import GossipCRDT

/// Plugs MeshCore's cryptographic checks into the replicated store: a record is merged only if
/// its payload is a well-formed node record signed by the member it is stored under, and a
/// tombstone only if its issuer signed it.
///
/// The store itself enforces newer-only merging; `validate(_:current:)` repeats that check with a
/// reason attached, for callers (the daemon's ingress path, metrics) that want to know why.
public struct MeshRecordValidator: RecordValidator {
    public let mesh: MeshID
    public let policy: RoutePolicy
    /// Which endpoints members may publish. Strict unless every node of the mesh is a
    /// control-plane-only daemon on one machine; nodes that disagree here disagree about which
    /// records are valid, exactly as with `policy`.
    public let endpoints: EndpointPolicy
    /// The owners' decisions, for a mesh with owners: evicted members' records, tombstones and
    /// heartbeats are refused (and they never lead), and once admissions are required a record
    /// needs one that counts.
    public let ledger: OwnerLedger?
    /// Members the owners evicted (`OwnerLedger.evicted`).
    public let evicted: Set<NodeID>
    /// Admissions are required even before the ledger says so: this node was admitted itself,
    /// so its mesh requires them, and it must not let strangers in while its ledger catches up.
    public let requiresAdmissions: Bool
    /// This node: its own record needs no admission check here (it signed it, with the
    /// admission it was granted, which its ledger may not be able to place yet).
    public let me: NodeID?

    public init(
        mesh: MeshID, policy: RoutePolicy = .default, endpoints: EndpointPolicy = .strict, ledger: OwnerLedger? = nil,
        requiresAdmissions: Bool = false, me: NodeID? = nil
    ) {
        self.me = me
        self.mesh = mesh
        self.policy = policy
        self.endpoints = endpoints
        self.ledger = ledger
        self.evicted = ledger.map { Set($0.evicted.keys) } ?? []
        self.requiresAdmissions = requiresAdmissions
    }

    public func accept(_ record: MemberRecord) -> Bool {
        (try? validate(record, current: nil)) != nil
    }

    public func accept(_ tombstone: Tombstone, issuer: MemberRecord?) -> Bool {
        (try? validate(tombstone, issuer: issuer)) != nil
    }

    public func accept(_ heartbeat: Heartbeat, leader: MemberRecord) -> Bool {
        guard !evicted.contains(leader.owner), leader.owner == heartbeat.epoch.leader,
            let signed = try? Self.decode(leader.payload),
            signed.record.wireGuardKey.nodeID == leader.owner
        else { return false }
        return signed.record.signingKey.isValidSignature(
            heartbeat.proof, for: HeartbeatSigning.message(heartbeat, mesh: mesh))
    }

    /// Only peers lead: a client sits behind NAT, so other members' acknowledgements could not
    /// reach it, and it would prune everyone it cannot hear.
    public func canLead(_ record: MemberRecord) -> Bool {
        guard !evicted.contains(record.owner) else { return false }
        return (try? SignedNodeRecord.decode(record.payload))?.record.role != .client
    }

    /// Decodes and verifies `record.payload`, and checks that the store's envelope (owner and
    /// version) agrees with what the owner signed: otherwise a relay could re-label a genuine
    /// record with a higher version and pin it.
    @discardableResult
    public func validate(_ record: MemberRecord, current: MemberRecord?) throws(RecordRejection) -> SignedNodeRecord {
        if let current, current.owner == record.owner, record.version <= current.version {
            throw .staleVersion(current: current.version, received: record.version)
        }
        guard !evicted.contains(record.owner) else { throw .evicted }
        let signed = try Self.decode(record.payload)
        guard signed.record.wireGuardKey.nodeID == record.owner else { throw .nodeIDMismatch }
        guard signed.record.version == record.version else {
            throw .malformed(.invalid(field: "version", reason: "envelope version differs from the signed version"))
        }
        try signed.verify(in: mesh, policy: policy, endpoints: endpoints)
        if let ledger, ledger.requiresAdmissions || requiresAdmissions, record.owner != me {
            let carried = try signed.record.admission.map { bytes throws(RecordRejection) in
                try signed.record.verifiedAdmission(bytes, in: mesh)
            }
            guard ledger.admits(signed.record.signingKey, as: signed.record.role, carried: carried, required: true)
            else {
                throw .notAdmitted
            }
        }
        return signed
    }

    /// Checks a tombstone's signature against its issuer's signing key. A `.left` tombstone must
    /// be issued by the member itself, since leaving is final and only the leaver may decide it.
    public func validate(_ tombstone: Tombstone, issuer: MemberRecord?) throws(RecordRejection) {
        if tombstone.kind == .left, tombstone.issuer != tombstone.member { throw .notOwnRecord }
        guard !evicted.contains(tombstone.issuer) else { throw .evicted }
        guard let issuer, issuer.owner == tombstone.issuer else { throw .badSignature }
        let signed = try Self.decode(issuer.payload)
        guard signed.record.wireGuardKey.nodeID == tombstone.issuer else { throw .nodeIDMismatch }
        guard signed.record.signingKey.derivedWireGuardKey == signed.record.wireGuardKey else {
            throw .wireGuardKeyMismatch
        }
        let message = TombstoneSigning.message(tombstone, mesh: mesh)
        guard signed.record.signingKey.isValidSignature(tombstone.proof, for: message) else { throw .badSignature }
    }

    private static func decode(_ payload: [UInt8]) throws(RecordRejection) -> SignedNodeRecord {
        do {
            return try SignedNodeRecord.decode(payload)
        } catch {
            throw .malformed(error)
        }
    }
}

/// The `GossipSigner` a node hands its gossip engine: proofs that `MeshRecordValidator`
/// accepts on every other member, made with the node's own identity.
public struct MeshGossipSigner: GossipSigner {
    public let identity: NodeIdentity
    public let mesh: MeshID

    public init(identity: NodeIdentity, mesh: MeshID) {
        self.identity = identity
        self.mesh = mesh
    }

    public func proof(for tombstone: Tombstone) -> [UInt8] {
        identity.sign(TombstoneSigning.message(tombstone, mesh: mesh))
    }

    public func proof(for heartbeat: Heartbeat) -> [UInt8] {
        identity.sign(HeartbeatSigning.message(heartbeat, mesh: mesh))
    }
}

/// Signatures over heartbeats: `domain ‖ mesh id ‖ leader ‖ number ‖ stable summary`. One
/// signature per epoch by the leader; every receiver checks it once, when the epoch is new to it.
public enum HeartbeatSigning {
    static let domain: [UInt8] = Array("smegmesh/v2/heartbeat".utf8) + [0]

    static func message(_ heartbeat: Heartbeat, mesh: MeshID) -> [UInt8] {
        var writer = ByteWriter(capacity: 96)
        writer.writeBytes(domain)
        writer.writeBytes(mesh.bytes)
        writer.writeBytes(heartbeat.epoch.leader.bytes)
        writer.writeU64(heartbeat.epoch.number)
        writer.writeU64(heartbeat.stableSummary)
        return writer.bytes
    }
}

/// Signatures over tombstones: `domain ‖ mesh id ‖ member ‖ version ‖ kind ‖ issuer`.
public enum TombstoneSigning {
    static let domain: [UInt8] = Array("smegmesh/v1/tombstone".utf8) + [0]

    /// A tombstone issued and signed by `identity`: for `.left`, the leaving node's own identity;
    /// for `.pruned`, the leader's.
    public static func make(
        member: NodeID, version: UInt64, kind: TombstoneKind, identity: NodeIdentity, mesh: MeshID
    ) -> Tombstone {
        var tombstone = Tombstone(member: member, version: version, kind: kind, issuer: identity.nodeID)
        tombstone.proof = MeshGossipSigner(identity: identity, mesh: mesh).proof(for: tombstone)
        return tombstone
    }

    static func message(_ tombstone: Tombstone, mesh: MeshID) -> [UInt8] {
        var writer = ByteWriter(capacity: 128)
        writer.writeBytes(domain)
        writer.writeBytes(mesh.bytes)
        writer.writeBytes(tombstone.member.bytes)
        writer.writeU64(tombstone.version)
        writer.writeU8(tombstone.kind.rawValue)
        writer.writeBytes(tombstone.issuer.bytes)
        return writer.bytes
    }
}
