import GossipCRDT

/// One decision only an owner may take, signed by that owner and spread by gossip to every
/// member (`OwnerLedger`). There is no server to ask, so the statement itself must be enough:
/// it names the mesh (in the signed message), its issuer's key and what it decides.
///
/// ```
/// statement = format (1, = 01) ‖ kind (1) ‖ issuer signing key (32) ‖ issued at (8, ms since 1970)
///             ‖ subject ‖ signature (64)
/// signed    = "smegmesh/v2/owner-statement\0" ‖ mesh id (10) ‖ statement up to the signature
/// subject   = addOwner, removeOwner: the subject's signing key (32)
///             evict: the evicted member's node id (32)
///             revokeInvite: the invite id (16)
///             admit: the member's signing key (32) ‖ role (1) ‖ invite id (16, zeros for none)
///             admitAddressed: admit's subject ‖ the member's IPv4 overlay address (4)
///             requireAdmissions: nothing
///             rotate: generation (8) ‖ commitment to the new secret (32)
///             settings: version (8) ‖ length (2) ‖ the mesh's name and route policy, as a
///                       charter signs them (canonical)
///             tags: the member's node id (32) ‖ version (8) ‖ its tags (`TagAssignment`)
///             accessPolicy: version (8) ‖ length (2) ‖ the policy (`AccessPolicyCodec`)
/// ```
///
/// A value has always been checked: `sign` and `init(bytes:mesh:)` are the only ways to make
/// one, and decoding verifies the signature. Whether the issuer was entitled to say it is the
/// ledger's question, since it depends on the other statements.
public struct OwnerStatement: Hashable, Sendable {
    public static let format: UInt8 = 1
    static let signatureDomain: [UInt8] = Array("smegmesh/v2/owner-statement".utf8) + [0]
    static let headerSize = 1 + 1 + 32 + 8
    /// The largest encoding: an access policy statement with the largest policy.
    public static let maxByteCount = headerSize + 8 + 2 + AccessPolicy.maxEncodedBytes + Sodium.ed25519SignatureBytes
    /// The longest admission (the statement a record carries): one with an IPv4 address.
    public static let admissionByteCount = headerSize + Admission.byteCount + 4 + Sodium.ed25519SignatureBytes
    /// Statement ids are 16 bytes of a hash of the whole encoding, signature included.
    public static let idByteCount = 16

    public enum Decision: Hashable, Sendable {
        /// Makes the member with this signing key an owner.
        case addOwner(SigningPublicKey)
        case removeOwner(SigningPublicKey)
        /// Removes a member for good: its records and frames are refused everywhere.
        case evict(NodeID)
        /// The invite with this id admits nobody any more.
        case revokeInvite(InviteID)
        /// Makes the holder of a key a member: carried by its record, or in the ledger for
        /// members admitted again (an upgrade, or their admitting owner removed).
        case admit(Admission)
        /// From now on a record is merged only with an admission; the founder says it at
        /// `create`, and the upgrade of an older mesh says it once it admitted its members.
        case requireAdmissions
        /// The mesh secret changes to generation `generation`, whose secret hashes to
        /// `commitment` (`SecretCommitment`): members take a secret offered to them only if
        /// it matches, so no member can hand out a secret of its own.
        case rotate(generation: UInt64, commitment: [UInt8])
        /// The mesh's name and route policy from now on, replacing the charter's; the highest
        /// version wins.
        case settings(SettingsUpdate)
        /// The tags one member carries from now on, replacing its earlier ones; per member,
        /// the highest version wins.
        case tags(TagAssignment)
        /// Who may open which flows to whom from now on; the highest version wins.
        case accessPolicy(AccessPolicyUpdate)

        var kind: UInt8 {
            switch self {
            case .addOwner: 1
            case .removeOwner: 2
            case .evict: 3
            case .revokeInvite: 4
            case .admit(let admission): admission.ipv4 == nil ? 5 : 9
            case .requireAdmissions: 6
            case .rotate: 7
            case .settings: 8
            case .tags: 10
            case .accessPolicy: 11
            }
        }

        var subjectBytes: [UInt8] {
            switch self {
            case .addOwner(let key), .removeOwner(let key): key.bytes
            case .evict(let member): member.bytes
            case .revokeInvite(let invite): invite.bytes
            case .admit(let admission): admission.bytes
            case .requireAdmissions: []
            case .rotate(let generation, let commitment):
                (0..<8).map { UInt8(truncatingIfNeeded: generation >> (56 - 8 * $0)) } + commitment
            case .settings(let update): update.subjectBytes
            case .tags(let assignment): assignment.subjectBytes
            case .accessPolicy(let update): update.subjectBytes
            }
        }
    }

    public let decision: Decision
    public let issuer: SigningPublicKey
    /// Milliseconds since 1970, as the issuer's clock said. Shown to operators; the ledger
    /// orders nothing by it, so a backdated statement wins nothing.
    public let issuedAt: UInt64
    /// The whole encoding, signature included.
    public let bytes: [UInt8]
    /// A hash of `bytes`: how the ledger names, orders and deduplicates statements.
    public let id: [UInt8]

    public static func sign(
        _ decision: Decision, by owner: NodeIdentity, at issuedAt: UInt64, mesh: MeshID
    ) -> OwnerStatement {
        var body = [Self.format, decision.kind] + owner.signingKey.bytes
        body += (0..<8).map { UInt8(truncatingIfNeeded: issuedAt >> (56 - 8 * $0)) }
        body += decision.subjectBytes
        let signature = owner.sign(Self.signatureDomain + mesh.bytes + body)
        return OwnerStatement(decision: decision, issuer: owner.signingKey, issuedAt: issuedAt, bytes: body + signature)
    }

    /// Decodes and verifies a statement of `mesh`: structure, the kind's subject length and
    /// the issuer's signature. Nothing is read past `maxByteCount`.
    public init(bytes input: some Collection<UInt8>, mesh: MeshID) throws(OwnerStatementError) {
        guard input.count <= Self.maxByteCount else {
            throw .malformed(.tooLarge(field: "owner statement", length: input.count, limit: Self.maxByteCount))
        }
        let bytes = Array(input)
        guard let format = bytes.first else { throw .malformed(.truncated(field: "owner statement")) }
        guard format == Self.format else { throw .unsupportedFormat(format) }
        var reader = ByteReader(bytes[1...])
        let decision: Decision
        let issuer: SigningPublicKey
        let issuedAt: UInt64
        let signature: [UInt8]
        do {
            let kind = try reader.readU8("statement kind")
            issuer = SigningPublicKey(uncheckedBytes: try reader.readBytes(32, "issuer"))
            issuedAt = try reader.readU64("issued at")
            switch kind {
            case 1: decision = .addOwner(SigningPublicKey(uncheckedBytes: try reader.readBytes(32, "owner")))
            case 2: decision = .removeOwner(SigningPublicKey(uncheckedBytes: try reader.readBytes(32, "owner")))
            case 3: decision = .evict(NodeID(bytes: try reader.readBytes(32, "member"))!)
            case 4: decision = .revokeInvite(InviteID(bytes: try reader.readBytes(InviteID.byteCount, "invite"))!)
            case 5: decision = .admit(try Admission(reading: &reader, withAddress: false))
            case 9: decision = .admit(try Admission(reading: &reader, withAddress: true))
            case 6: decision = .requireAdmissions
            case 7:
                decision = .rotate(
                    generation: try reader.readU64("generation"), commitment: try reader.readBytes(32, "commitment"))
            case 8:
                let version = try reader.readU64("settings version")
                let bytes = try reader.readLengthPrefixed("settings", limit: MeshCharter.maxSettingsLength)
                guard let update = SettingsUpdate(version: version, settingsBytes: bytes) else {
                    throw WireError.invalid(field: "settings", reason: "not valid canonical settings")
                }
                decision = .settings(update)
            case 10: decision = .tags(try TagAssignment(reading: &reader))
            case 11: decision = .accessPolicy(try AccessPolicyUpdate(reading: &reader))
            default: throw OwnerStatementError.unknownKind(kind)
            }
            signature = try reader.readBytes(Sodium.ed25519SignatureBytes, "signature")
            try reader.finish()
        } catch let error as WireError {
            throw .malformed(error)
        } catch let error as OwnerStatementError {
            throw error
        } catch {
            throw .malformed(.truncated(field: "owner statement"))
        }
        let body = Array(bytes.dropLast(Sodium.ed25519SignatureBytes))
        guard issuer.isValidSignature(signature, for: Self.signatureDomain + mesh.bytes + body) else {
            throw .badSignature
        }
        self.init(decision: decision, issuer: issuer, issuedAt: issuedAt, bytes: bytes)
    }

    private init(decision: Decision, issuer: SigningPublicKey, issuedAt: UInt64, bytes: [UInt8]) {
        self.decision = decision
        self.issuer = issuer
        self.issuedAt = issuedAt
        self.bytes = bytes
        self.id = Array(Sodium.blake2b([bytes], outputLength: 32).prefix(Self.idByteCount))
    }
}

/// An owner's new name and route policy for the mesh, versioned (the charter is version 0).
public struct SettingsUpdate: Hashable, Sendable {
    public let version: UInt64
    public let name: String?
    public let policy: RoutePolicy
    /// The canonical settings bytes, as a charter signs them.
    let settingsBytes: [UInt8]

    /// Nil when `name` or `policy` would not encode as valid settings.
    public init?(version: UInt64, name: String?, policy: RoutePolicy) {
        if let name, !DNSName.isValidLabel(Array(name.utf8)) { return nil }
        guard policy.allowedPrefixes.count <= MeshSettingsLimits.maxAllowedPrefixes,
            let bytes = try? MeshCharter.settingsBytes(name: name, policy: policy),
            bytes.count <= MeshCharter.maxSettingsLength
        else { return nil }
        self.version = version
        self.name = name
        self.policy = policy
        self.settingsBytes = bytes
    }

    /// Decodes settings bytes, which must be canonical (one encoding per settings).
    init?(version: UInt64, settingsBytes bytes: [UInt8]) {
        var reader = ByteReader(bytes)
        guard let settings = try? MeshSettingsCodec.read(from: &reader, allowCharter: false),
            (try? reader.finish()) != nil,
            (try? MeshCharter.settingsBytes(name: settings.name, policy: settings.policy)) == bytes
        else { return nil }
        self.init(version: version, name: settings.name, policy: settings.policy)
    }

    var subjectBytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: version >> (56 - 8 * $0)) }
            + [UInt8(settingsBytes.count >> 8), UInt8(settingsBytes.count & 0xFF)] + settingsBytes
    }
}

/// What a rotation statement commits to: a secret holder cannot find another secret with the
/// same commitment, and the mesh id and generation keep one commitment from serving twice.
public enum SecretCommitment {
    static let domain: [UInt8] = Array("smegmesh/v2/secret-commitment".utf8) + [0]

    public static func of(_ secret: MeshSecret, generation: UInt64, mesh: MeshID) -> [UInt8] {
        Sodium.blake2b(
            [domain, mesh.bytes, (0..<8).map { UInt8(truncatingIfNeeded: generation >> (56 - 8 * $0)) }, secret.bytes],
            outputLength: 32)
    }
}

/// Who an admission makes a member, as what, through which invite, and with which IPv4
/// overlay address.
///
/// The owner picks the address (`IPv4Allocation`) and signs it here, so a member cannot choose
/// one by grinding keys; a hash of the key only proposes it. An admission without one is kind 5
/// (meshes without an IPv4 prefix, and every admission made before IPv4 overlays), with one
/// kind 9, so an older member refuses what it cannot apply instead of misreading it.
public struct Admission: Hashable, Sendable {
    static let byteCount = 32 + 1 + InviteID.byteCount

    /// What an admitted member may be.
    public enum Role: UInt8, Sendable, CaseIterable, CustomStringConvertible {
        /// A peer or a client, as the member chooses.
        case member = 0
        /// Only a client: never leads, never relays (a guest device).
        case client = 1

        public var description: String { self == .member ? "member" : "client" }
    }

    public let member: SigningPublicKey
    public let role: Role
    /// The invite it was redeemed from; nil for an owner's own node or an upgrade.
    public let invite: InviteID?
    /// The member's IPv4 overlay address; nil when the mesh has no IPv4 prefix.
    public let ipv4: IPv4Address?

    /// An all-zero invite id is how the encoding says "none", so it is stored as nil: one
    /// admission has one encoding, and decoding gives back what was signed.
    public init(member: SigningPublicKey, role: Role, invite: InviteID?, ipv4: IPv4Address? = nil) {
        self.member = member
        self.role = role
        self.invite = invite.flatMap { $0.bytes.allSatisfy { $0 == 0 } ? nil : $0 }
        self.ipv4 = ipv4
    }

    /// The same admission with another address: how an owner moves the loser of an address
    /// conflict, keeping its role and invite.
    public func with(ipv4: IPv4Address?) -> Admission {
        Admission(member: member, role: role, invite: invite, ipv4: ipv4)
    }

    var bytes: [UInt8] {
        member.bytes + [role.rawValue] + (invite?.bytes ?? [UInt8](repeating: 0, count: InviteID.byteCount))
            + (ipv4?.bytes ?? [])
    }

    init(reading reader: inout ByteReader, withAddress: Bool) throws(WireError) {
        member = SigningPublicKey(uncheckedBytes: try reader.readBytes(32, "member"))
        let byte = try reader.readU8("role")
        guard let role = Role(rawValue: byte) else { throw .invalid(field: "role", reason: "unknown role \(byte)") }
        self.role = role
        let invite = try reader.readBytes(InviteID.byteCount, "invite")
        self.invite = invite.allSatisfy { $0 == 0 } ? nil : InviteID(bytes: invite)
        self.ipv4 = withAddress ? IPv4Address(bytes: try reader.readSlice(4, "IPv4 address")) : nil
    }
}

/// The random 16-byte name of an invite: what `smegctl invites` lists and `invite revoke` takes.
public struct InviteID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public static let byteCount = 16
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.byteCount else { return nil }
        self.bytes = bytes
    }

    /// Lowercase base32 without padding (26 characters), as operators type it.
    public init?(_ text: String) {
        guard let bytes = Base32.decode(text.lowercased()), bytes.count == Self.byteCount else { return nil }
        self.bytes = bytes
    }

    public static func generate() throws -> InviteID {
        InviteID(bytes: try Sodium.randomBytes(byteCount))!
    }

    public var description: String { Base32.encode(bytes) }

    public static func < (lhs: InviteID, rhs: InviteID) -> Bool { lhs.bytes.lexicographicallyPrecedes(rhs.bytes) }
}

public enum OwnerStatementError: Error, Equatable, Sendable, CustomStringConvertible {
    case malformed(WireError)
    case unsupportedFormat(UInt8)
    case unknownKind(UInt8)
    case badSignature

    public var description: String {
        switch self {
        case .malformed(let error): "the owner statement is malformed: \(error)"
        case .unsupportedFormat(let format): "owner statement format \(format) is unknown (a newer smegmesh made it)"
        case .unknownKind(let kind): "owner statement kind \(kind) is unknown (a newer smegmesh made it)"
        case .badSignature: "the issuer's signature does not verify"
        }
    }
}
