/// An owner's promise to admit whoever presents it, within limits: the signed half of an
/// invitation (`Invitation`). It carries no secret: the issuing owner checks it, counts its uses
/// and only then seals the mesh secret to the joiner's own key, so a ticket that leaked after it
/// expired, was used up or revoked is worth nothing, and rotating the secret leaves outstanding
/// tickets valid.
///
/// ```
/// ticket = format (1, = 01) ‖ issuer signing key (32) ‖ invite id (16) ‖ expires at (8, ms since
///          1970) ‖ uses (2) ‖ role (1) ‖ make owner (1) ‖ signature (64)
/// signed = "smegmesh/v2/invite-ticket\0" ‖ mesh id (10) ‖ ticket up to the signature
/// ```
public struct InviteTicket: Hashable, Sendable {
    public static let format: UInt8 = 1
    static let signatureDomain: [UInt8] = Array("smegmesh/v2/invite-ticket".utf8) + [0]
    public static let byteCount = 1 + 32 + InviteID.byteCount + 8 + 2 + 1 + 1 + Sodium.ed25519SignatureBytes
    /// Uses one ticket may grant at most.
    public static let maxUses = 1000

    public let issuer: SigningPublicKey
    public let id: InviteID
    /// Milliseconds since 1970 after which the issuer refuses it.
    public let expiresAt: UInt64
    public let uses: Int
    public let role: Admission.Role
    /// Whether whoever redeems it also becomes an owner.
    public let makesOwner: Bool
    public let bytes: [UInt8]

    public static func sign(
        id: InviteID, expiresAt: UInt64, uses: Int, role: Admission.Role, makesOwner: Bool, by owner: NodeIdentity,
        mesh: MeshID
    ) -> InviteTicket {
        let uses = min(max(uses, 1), maxUses)
        var writer = ByteWriter(capacity: byteCount)
        writer.writeU8(format)
        writer.writeBytes(owner.signingKey.bytes)
        writer.writeBytes(id.bytes)
        writer.writeU64(expiresAt)
        writer.writeU16(UInt16(uses))
        writer.writeU8(role.rawValue)
        writer.writeU8(makesOwner ? 1 : 0)
        let body = writer.bytes
        let signature = owner.sign(signatureDomain + mesh.bytes + body)
        return InviteTicket(
            issuer: owner.signingKey, id: id, expiresAt: expiresAt, uses: uses, role: role, makesOwner: makesOwner,
            bytes: body + signature)
    }

    /// Decodes and verifies a ticket of `mesh`.
    public init(bytes input: some Collection<UInt8>, mesh: MeshID) throws(InviteTicketError) {
        guard input.count == Self.byteCount else { throw .malformed }
        let bytes = Array(input)
        guard bytes[0] == Self.format else { throw .unsupportedFormat(bytes[0]) }
        var reader = ByteReader(bytes[1...])
        guard let issuer = try? reader.readBytes(32, "issuer"), let id = try? reader.readBytes(16, "id"),
            let expiresAt = try? reader.readU64("expires"), let uses = try? reader.readU16("uses"),
            let roleByte = try? reader.readU8("role"), let role = Admission.Role(rawValue: roleByte),
            let owner = try? reader.readU8("owner"), owner <= 1, (1...Self.maxUses).contains(Int(uses))
        else { throw .malformed }
        let key = SigningPublicKey(uncheckedBytes: issuer)
        let body = Array(bytes.dropLast(Sodium.ed25519SignatureBytes))
        guard
            key.isValidSignature(
                Array(bytes.suffix(Sodium.ed25519SignatureBytes)), for: Self.signatureDomain + mesh.bytes + body)
        else { throw .badSignature }
        self.init(
            issuer: key, id: InviteID(bytes: id)!, expiresAt: expiresAt, uses: Int(uses), role: role,
            makesOwner: owner == 1, bytes: bytes)
    }

    private init(
        issuer: SigningPublicKey, id: InviteID, expiresAt: UInt64, uses: Int, role: Admission.Role, makesOwner: Bool,
        bytes: [UInt8]
    ) {
        self.issuer = issuer
        self.id = id
        self.expiresAt = expiresAt
        self.uses = uses
        self.role = role
        self.makesOwner = makesOwner
        self.bytes = bytes
    }
}

public enum InviteTicketError: Error, Equatable, Sendable, CustomStringConvertible {
    case malformed
    case unsupportedFormat(UInt8)
    case badSignature

    public var description: String {
        switch self {
        case .malformed: "the invite ticket is malformed"
        case .unsupportedFormat(let format): "invite ticket format \(format) is unknown (a newer smegmesh made it)"
        case .badSignature: "the invite ticket's signature does not verify"
        }
    }
}
