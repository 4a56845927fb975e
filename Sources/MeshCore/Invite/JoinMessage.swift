import GossipCRDT

/// The frames a node exchanges before it holds the mesh secret: a joiner redeeming an invite
/// ticket with its issuing owner. They travel on the gossip port as frame version 3, outside the
/// mesh secret's AEAD (the joiner has none yet), so everything in them is signed or sealed:
///
/// ```
/// frame    = "SMEG" ‖ 03 ‖ mesh id (10) ‖ kind (1) ‖ body
/// request  = kind 1 ‖ requester signing key (32) ‖ nonce (16) ‖ sent at (8) ‖ ticket (125)
///            ‖ role (1) ‖ padding length (2) ‖ zeros ‖ signature (64)
/// grant    = kind 2 ‖ nonce (16) ‖ sealed box to the requester's X25519 key of
///            (secret (32) ‖ admission length (2) ‖ admission ‖ signature (64))
/// refusal  = kind 3 ‖ nonce (16) ‖ reason (1) ‖ responder signing key (32) ‖ signature (64)
/// ```
///
/// A request is signed by the key it wants admitted, so nobody can redeem a ticket for
/// someone else's key, and it is padded to `requestSize` so that no answer is larger than what
/// provoked it (no amplification). The grant is sealed to the requester, so only it learns the
/// secret, and signed inside by the issuer, since anyone can seal a box to a public key. A
/// refusal is signed too, so an on-path stranger cannot talk a joiner out of a valid ticket.
public enum JoinMessage: Equatable, Sendable {
    case request(Request)
    case grant(Grant)
    case refusal(Refusal)
    case secretRequest(SecretRequest)
    /// Opened by the requester with `openSecretGrant`.
    case secretGrant

    public static let frameVersion: UInt8 = 3
    public static let headerSize = 4 + 1 + MeshID.byteCount
    /// Every request is padded to this size: larger than any grant or refusal.
    public static let requestSize = 512
    static let requestDomain: [UInt8] = Array("smegmesh/v2/join-request".utf8) + [0]
    static let grantDomain: [UInt8] = Array("smegmesh/v2/join-grant".utf8) + [0]
    static let refusalDomain: [UInt8] = Array("smegmesh/v2/join-refusal".utf8) + [0]

    public struct Request: Equatable, Sendable {
        public let requester: SigningPublicKey
        public let nonce: [UInt8]
        /// Milliseconds since 1970 by the requester's clock (shown in logs; a replay gains
        /// nothing: the grant is sealed to the requester).
        public let sentAt: UInt64
        public let ticket: InviteTicket
        /// The role the joiner will publish: a client-only ticket refuses a peer.
        public let role: NodeRecord.Role
    }

    public struct Grant: Equatable, Sendable {
        public let nonce: [UInt8]
        /// Opened by the requester with `open(grant:...)`.
        public let sealed: [UInt8]
    }

    /// What the opened grant says, checked: signed by the ticket's issuer, for this requester.
    public struct Granted: Equatable, Sendable {
        public let secret: MeshSecret
        /// An admit statement of the requester's key, signed by the issuer.
        public let admission: OwnerStatement
    }

    public struct Refusal: Equatable, Sendable {
        public let nonce: [UInt8]
        public let reason: JoinRefusal
        public let responder: SigningPublicKey
        public let signature: [UInt8]
    }

    /// Whether a datagram is a join frame (routed by its mesh id like any frame).
    public static func isJoinFrame(_ bytes: [UInt8]) -> Bool {
        bytes.count > headerSize && bytes.prefix(4).elementsEqual(FrameSealer.magic) && bytes[4] == frameVersion
    }

    static func header(_ mesh: MeshID) -> [UInt8] { FrameSealer.magic + [frameVersion] + mesh.bytes }

    // MARK: Making

    public static func request(
        ticket: InviteTicket, role: NodeRecord.Role, identity: NodeIdentity, nonce: [UInt8], sentAt: UInt64,
        mesh: MeshID
    ) -> [UInt8] {
        var body = [UInt8(1)] + identity.signingKey.bytes + nonce
        body += (0..<8).map { UInt8(truncatingIfNeeded: sentAt >> (56 - 8 * $0)) }
        body += ticket.bytes + [role.rawValue]
        let padding = max(0, requestSize - headerSize - body.count - 2 - Sodium.ed25519SignatureBytes)
        body += [UInt8(padding >> 8), UInt8(padding & 0xFF)] + [UInt8](repeating: 0, count: padding)
        let signature = identity.sign(requestDomain + mesh.bytes + body)
        return header(mesh) + body + signature
    }

    /// A grant for `request`: the secret and the requester's admission, signed by `issuer`,
    /// sealed to the requester. Nil if the requester's key has no X25519 form.
    public static func grant(
        for request: Request, secret: MeshSecret, admission: OwnerStatement, issuer: NodeIdentity, mesh: MeshID
    ) -> [UInt8]? {
        guard let box = request.requester.derivedWireGuardKey else { return nil }
        let content =
            secret.bytes + [UInt8(admission.bytes.count >> 8), UInt8(admission.bytes.count & 0xFF)]
            + admission.bytes
        let signature = issuer.sign(grantDomain + mesh.bytes + request.nonce + request.requester.bytes + content)
        guard let sealed = Sodium.sealedBox(content + signature, to: box.bytes) else { return nil }
        return header(mesh) + [2] + request.nonce + sealed
    }

    public static func refusal(_ reason: JoinRefusal, nonce: [UInt8], responder: NodeIdentity, mesh: MeshID) -> [UInt8]
    {
        let body = [UInt8(3)] + nonce + [reason.rawValue] + responder.signingKey.bytes
        return header(mesh) + body + responder.sign(refusalDomain + mesh.bytes + body)
    }

    // MARK: Reading

    /// Decodes a join frame of `mesh`; a request's signature and ticket are verified here.
    public static func decode(_ frame: [UInt8], mesh: MeshID) -> JoinMessage? {
        guard isJoinFrame(frame), frame.count <= requestSize, frame[5..<headerSize].elementsEqual(mesh.bytes) else {
            return nil
        }
        let body = Array(frame[headerSize...])
        var reader = ByteReader(body)
        guard let kind = try? reader.readU8("kind") else { return nil }
        switch kind {
        case 1:
            guard body.count > Sodium.ed25519SignatureBytes else { return nil }
            let signed = Array(body.dropLast(Sodium.ed25519SignatureBytes))
            var fields = ByteReader(signed[1...])
            guard let key = try? fields.readBytes(32, "key"), let nonce = try? fields.readBytes(16, "nonce"),
                let sentAt = try? fields.readU64("sent at"),
                let ticketBytes = try? fields.readBytes(InviteTicket.byteCount, "ticket"),
                let roleByte = try? fields.readU8("role"), let role = NodeRecord.Role(rawValue: roleByte),
                let padding = try? fields.readU16("padding"),
                let zeros = try? fields.readBytes(Int(padding), "padding"),
                zeros.allSatisfy({ $0 == 0 }), fields.isAtEnd
            else { return nil }
            let requester = SigningPublicKey(uncheckedBytes: key)
            guard
                requester.isValidSignature(
                    Array(body.suffix(Sodium.ed25519SignatureBytes)), for: requestDomain + mesh.bytes + signed),
                let ticket = try? InviteTicket(bytes: ticketBytes, mesh: mesh)
            else { return nil }
            return .request(Request(requester: requester, nonce: nonce, sentAt: sentAt, ticket: ticket, role: role))
        case 2:
            guard let nonce = try? reader.readBytes(16, "nonce") else { return nil }
            return .grant(Grant(nonce: nonce, sealed: Array(reader.readRest())))
        case 3:
            guard let nonce = try? reader.readBytes(16, "nonce"), let byte = try? reader.readU8("reason"),
                let reason = JoinRefusal(rawValue: byte), let key = try? reader.readBytes(32, "responder"),
                let signature = try? reader.readBytes(Sodium.ed25519SignatureBytes, "signature"), reader.isAtEnd
            else { return nil }
            let responder = SigningPublicKey(uncheckedBytes: key)
            guard responder.isValidSignature(signature, for: refusalDomain + mesh.bytes + Array(body.dropLast(64)))
            else { return nil }
            return .refusal(Refusal(nonce: nonce, reason: reason, responder: responder, signature: signature))
        case 4:
            return decodeSecretRequest(body, mesh: mesh).map { .secretRequest($0) }
        case 5:
            return .secretGrant
        default:
            return nil
        }
    }

    /// Opens a grant sent for this node's request `nonce` and checks it: sealed to this node,
    /// signed by `issuer`, with an admission of this node's key that `issuer` signed.
    public static func open(
        _ grant: Grant, nonce: [UInt8], identity: NodeIdentity, issuer: SigningPublicKey, mesh: MeshID
    ) -> Granted? {
        guard grant.nonce == nonce,
            let content = Sodium.openSealedBox(
                grant.sealed, publicKey: identity.wireGuardPublicKey.bytes,
                privateKey: identity.wireGuardPrivateKey.bytes),
            content.count > 32 + 2 + Sodium.ed25519SignatureBytes
        else { return nil }
        let signed = Array(content.dropLast(Sodium.ed25519SignatureBytes))
        let signature = Array(content.suffix(Sodium.ed25519SignatureBytes))
        guard
            issuer.isValidSignature(
                signature, for: grantDomain + mesh.bytes + nonce + identity.signingKey.bytes + signed)
        else { return nil }
        let length = Int(signed[32]) << 8 | Int(signed[33])
        guard signed.count == 34 + length, let secret = MeshSecret(bytes: Array(signed[0..<32])),
            let admission = try? OwnerStatement(bytes: signed[34...], mesh: mesh), admission.issuer == issuer,
            case .admit(let grantee) = admission.decision, grantee.member == identity.signingKey
        else { return nil }
        return Granted(secret: secret, admission: admission)
    }
}

/// Why an issuing owner refused to redeem a ticket, in words for `smegctl join`.
public enum JoinRefusal: UInt8, Error, Sendable, CaseIterable, CustomStringConvertible {
    case unknownInvite = 1
    case expired = 2
    case usedUp = 3
    case revoked = 4
    case evicted = 5
    case issuerNotOwner = 6
    case roleNotAllowed = 7
    case busy = 8

    public var description: String {
        let ask = "ask an owner for a new invite (`smegctl invite MESH` on an owner)"
        switch self {
        case .unknownInvite: return "the issuing owner does not know this invite (its state was lost); \(ask)"
        case .expired: return "this invite has expired; \(ask)"
        case .usedUp: return "this invite has been used up; \(ask)"
        case .revoked: return "this invite was revoked; \(ask)"
        case .evicted: return "this node's key was evicted from the mesh; it cannot come back with this key"
        case .issuerNotOwner: return "the node that issued this invite is no longer an owner; \(ask)"
        case .roleNotAllowed:
            return "this invite admits clients only; join with --role client, or \(ask) without that limit"
        case .busy: return "the issuing owner is busy with other joins; try again in a few seconds"
        }
    }
}

/// Catching up with a rotated secret: a member whose frames no longer open (it was away when
/// the secret changed) asks, in a join frame signed by its identity, any member it reaches;
/// that member answers only for an admitted, non-evicted member and seals the current secret
/// to it with the owner's rotation statement, whose commitment proves the secret genuine.
///
/// ```
/// secret request = 04 ‖ requester signing key (32) ‖ nonce (16) ‖ sent at (8) ‖ generation held (8)
///                  ‖ admission length (2) ‖ admission (0 or an owner statement) ‖ padding length (2)
///                  ‖ zeros, to 512 bytes ‖ signature (64), domain "smegmesh/v2/secret-request\0"
/// secret grant   = 05 ‖ nonce (16) ‖ crypto_box_seal(to the requester, secret (32)
///                  ‖ rotation length (2) ‖ rotation statement)
/// ```
extension JoinMessage {
    static let secretRequestDomain: [UInt8] = Array("smegmesh/v2/secret-request".utf8) + [0]

    public struct SecretRequest: Equatable, Sendable {
        public let requester: SigningPublicKey
        public let nonce: [UInt8]
        public let generation: UInt64
        /// The admission its record carries, if any (verified by the responder).
        public let admission: [UInt8]?
    }

    /// A secret and the owner-signed rotation that commits to it, as the requester opens them.
    public struct SecretOffer: Equatable, Sendable {
        public let secret: MeshSecret
        public let rotation: OwnerStatement
    }

    public static func secretRequest(
        generation: UInt64, admission: [UInt8]?, identity: NodeIdentity, nonce: [UInt8], sentAt: UInt64, mesh: MeshID
    ) -> [UInt8] {
        var body = [UInt8(4)] + identity.signingKey.bytes + nonce
        body += bigEndian(sentAt) + bigEndian(generation)
        let carried = admission ?? []
        body += [UInt8(carried.count >> 8), UInt8(carried.count & 0xFF)] + carried
        let padding = max(0, requestSize - headerSize - body.count - 2 - Sodium.ed25519SignatureBytes)
        body += [UInt8(padding >> 8), UInt8(padding & 0xFF)] + [UInt8](repeating: 0, count: padding)
        return header(mesh) + body + identity.sign(secretRequestDomain + mesh.bytes + body)
    }

    static func decodeSecretRequest(_ body: [UInt8], mesh: MeshID) -> SecretRequest? {
        guard body.count > Sodium.ed25519SignatureBytes else { return nil }
        let signed = Array(body.dropLast(Sodium.ed25519SignatureBytes))
        var fields = ByteReader(signed[1...])
        guard let key = try? fields.readBytes(32, "key"), let nonce = try? fields.readBytes(16, "nonce"),
            (try? fields.readU64("sent at")) != nil, let generation = try? fields.readU64("generation"),
            let length = try? fields.readU16("admission length"), length <= OwnerStatement.admissionByteCount,
            let admission = try? fields.readBytes(Int(length), "admission"),
            let padding = try? fields.readU16("padding"), let zeros = try? fields.readBytes(Int(padding), "padding"),
            zeros.allSatisfy({ $0 == 0 }), fields.isAtEnd
        else { return nil }
        let requester = SigningPublicKey(uncheckedBytes: key)
        guard
            requester.isValidSignature(
                Array(body.suffix(Sodium.ed25519SignatureBytes)), for: secretRequestDomain + mesh.bytes + signed)
        else { return nil }
        return SecretRequest(
            requester: requester, nonce: nonce, generation: generation, admission: admission.isEmpty ? nil : admission)
    }

    public static func secretGrant(
        for request: SecretRequest, secret: MeshSecret, rotation: OwnerStatement, mesh: MeshID
    ) -> [UInt8]? {
        guard let box = request.requester.derivedWireGuardKey else { return nil }
        let content =
            secret.bytes + [UInt8(rotation.bytes.count >> 8), UInt8(rotation.bytes.count & 0xFF)] + rotation.bytes
        guard let sealed = Sodium.sealedBox(content, to: box.bytes) else { return nil }
        return header(mesh) + [5] + request.nonce + sealed
    }

    /// Opens a secret grant for this node's request `nonce`: the rotation statement must be a
    /// valid rotation of this mesh whose commitment the secret matches (its issuer's standing
    /// is the ledger's to judge).
    public static func openSecretGrant(
        _ frame: [UInt8], nonce: [UInt8], identity: NodeIdentity, mesh: MeshID
    ) -> SecretOffer? {
        guard isJoinFrame(frame), frame.count <= requestSize, frame[5..<headerSize].elementsEqual(mesh.bytes),
            frame[headerSize] == 5, frame.count > headerSize + 17,
            Array(frame[(headerSize + 1)..<(headerSize + 17)]) == nonce,
            let content = Sodium.openSealedBox(
                Array(frame[(headerSize + 17)...]), publicKey: identity.wireGuardPublicKey.bytes,
                privateKey: identity.wireGuardPrivateKey.bytes),
            content.count > 34
        else { return nil }
        let length = Int(content[32]) << 8 | Int(content[33])
        guard content.count == 34 + length, let secret = MeshSecret(bytes: Array(content[0..<32])),
            let rotation = try? OwnerStatement(bytes: content[34...], mesh: mesh),
            case .rotate(let generation, let commitment) = rotation.decision,
            SecretCommitment.of(secret, generation: generation, mesh: mesh) == commitment
        else { return nil }
        return SecretOffer(secret: secret, rotation: rotation)
    }
}

private func bigEndian(_ value: UInt64) -> [UInt8] {
    (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * $0)) }
}
