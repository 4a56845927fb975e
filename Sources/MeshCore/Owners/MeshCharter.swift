/// The mesh's settings (name, route policy) signed by its owner, bound to the mesh id.
///
/// Every holder of the mesh secret can mint an invite token, so a token's settings alone prove
/// nothing: a charter is what lets a joining node tell the owner's route policy from one a
/// member made up to have exits or 8.8.8.8/32 accepted. The mesh id commits to the owner key
/// (`MeshID.committing(to:salt:)`), so the id a node joins by is all it needs to trust.
///
/// ```
/// charter = format (1, = 01) ‖ owner key (32) ‖ salt (16) ‖ settings bytes(511) ‖ signature (64)
/// signed  = "smegmesh/v2/mesh-charter\0" ‖ mesh id (10) ‖ charter up to the signature
/// ```
///
/// `settings` is the tagged fields of an invite token's settings (tags 1, 2 and 4 only: name,
/// policy, IPv4 prefix), in canonical form. A value of this type has always been checked: it is either made by `sign` or
/// decoded by `init(bytes:mesh:)`, which verifies everything before returning.
public struct MeshCharter: Hashable, Sendable {
    public static let format: UInt8 = 1
    static let signatureDomain: [UInt8] = Array("smegmesh/v2/mesh-charter".utf8) + [0]
    static let maxSettingsLength = 511
    /// The largest encoding `init(bytes:mesh:)` reads, checked before anything else.
    public static let maxByteCount = 1 + 32 + MeshID.saltByteCount + 2 + maxSettingsLength + 64

    /// The mesh the charter governs, derived from `owner` and `salt`.
    public let mesh: MeshID
    /// The first owner's Ed25519 key.
    public let owner: SigningPublicKey
    public let salt: [UInt8]
    public let name: String?
    public let policy: RoutePolicy
    /// The network members' IPv4 overlay addresses come from; nil for a mesh made before
    /// IPv4 overlays, whose members have IPv6 addresses only.
    public let ipv4Prefix: IPPrefix?
    /// The whole encoding, signature included: what tokens carry and mesh.json stores.
    public let bytes: [UInt8]

    /// Signs `name` and `policy` with `owner`; the mesh id follows from the owner key and salt.
    public static func sign(
        owner: NodeIdentity, salt: [UInt8], name: String?, policy: RoutePolicy, ipv4Prefix: IPPrefix? = nil
    ) throws(MeshCharterError) -> MeshCharter {
        guard let mesh = MeshID.committing(to: owner.signingKey, salt: salt) else {
            throw .malformed(.invalid(field: "salt", reason: "not \(MeshID.saltByteCount) bytes"))
        }
        var writer = ByteWriter(capacity: 160)
        writer.writeU8(format)
        writer.writeBytes(owner.signingKey.bytes)
        writer.writeBytes(salt)
        writer.writeLengthPrefixed(
            try settingsBytes(name: name, policy: policy, ipv4Prefix: ipv4Prefix), limit: maxSettingsLength,
            field: "settings")
        let body: [UInt8]
        do {
            body = try writer.finish()
        } catch {
            throw .malformed(error)
        }
        let signature = owner.sign(signedMessage(mesh: mesh, body: body[...]))
        // Decoding what was just made checks the settings exactly as every receiver will.
        return try MeshCharter(bytes: body + signature, mesh: mesh)
    }

    /// Decodes and verifies a charter for `mesh`: the structure, that `mesh` commits to the
    /// owner key, the owner's signature, and the settings (valid, canonical, no charter inside).
    public init(bytes input: some Collection<UInt8>, mesh: MeshID) throws(MeshCharterError) {
        guard input.count <= Self.maxByteCount else {
            throw .malformed(.tooLarge(field: "charter", length: input.count, limit: Self.maxByteCount))
        }
        let bytes = Array(input)
        // The format comes first so a newer layout is named as such, not as malformed.
        guard let format = bytes.first else { throw .malformed(.truncated(field: "charter format")) }
        guard format == Self.format else { throw .unsupportedFormat(format) }
        var reader = ByteReader(bytes[1...])
        let owner: SigningPublicKey
        let salt: [UInt8]
        let settings: [UInt8]
        let signature: [UInt8]
        do {
            owner = SigningPublicKey(uncheckedBytes: try reader.readBytes(32, "owner key"))
            salt = try reader.readBytes(MeshID.saltByteCount, "salt")
            settings = try reader.readLengthPrefixed("settings", limit: Self.maxSettingsLength)
            signature = try reader.readBytes(Sodium.ed25519SignatureBytes, "signature")
            try reader.finish()
        } catch {
            throw .malformed(error)
        }
        guard let committed = MeshID.committing(to: owner, salt: salt), committed == mesh else {
            throw .notCommitted(mesh: mesh)
        }
        let body = bytes.dropLast(Sodium.ed25519SignatureBytes)
        guard owner.isValidSignature(signature, for: Self.signedMessage(mesh: mesh, body: body)) else {
            throw .badSignature
        }
        let decoded = try Self.decodeSettings(settings)
        self.mesh = mesh
        self.owner = owner
        self.salt = salt
        self.name = decoded.name
        self.policy = decoded.policy
        self.ipv4Prefix = decoded.ipv4Prefix
        self.bytes = bytes
    }

    static func signedMessage(mesh: MeshID, body: ArraySlice<UInt8>) -> [UInt8] {
        signatureDomain + mesh.bytes + body
    }

    /// Whether `prefix` can be a mesh's IPv4 network: IPv4, from /8 to /28.
    public static func isValidIPv4Prefix(_ prefix: IPPrefix) -> Bool { MeshSettingsCodec.isValidIPv4Prefix(prefix) }

    static func settingsBytes(
        name: String?, policy: RoutePolicy, ipv4Prefix: IPPrefix? = nil
    ) throws(MeshCharterError) -> [UInt8] {
        if let ipv4Prefix, !MeshSettingsCodec.isValidIPv4Prefix(ipv4Prefix) {
            throw .malformed(
                .invalid(field: "IPv4 prefix", reason: "\(ipv4Prefix) is not an IPv4 prefix from /8 to /28"))
        }
        var writer = ByteWriter(capacity: 96)
        MeshSettingsCodec.write(name: name, policy: policy, ipv4Prefix: ipv4Prefix, to: &writer)
        do {
            return try writer.finish()
        } catch {
            throw .malformed(error)
        }
    }

    /// Settings must re-encode to the signed bytes, so one set of settings has one charter
    /// encoding and nothing the codec would drop (an empty policy field) hides in a signature.
    private static func decodeSettings(_ bytes: [UInt8]) throws(MeshCharterError) -> MeshSettingsCodec.Settings {
        var reader = ByteReader(bytes)
        let settings: MeshSettingsCodec.Settings
        do {
            settings = try MeshSettingsCodec.read(from: &reader, allowCharter: false)
        } catch {
            throw .malformed(error)
        }
        guard try settingsBytes(name: settings.name, policy: settings.policy, ipv4Prefix: settings.ipv4Prefix) == bytes
        else {
            throw .malformed(.invalid(field: "settings", reason: "not in canonical form"))
        }
        return settings
    }
}

/// Why a charter was refused. Each case is a reason to distrust the settings it carries.
public enum MeshCharterError: Error, Equatable, Sendable, CustomStringConvertible {
    case malformed(WireError)
    case unsupportedFormat(UInt8)
    /// The mesh id is not the hash of the charter's owner key and salt: someone else's charter.
    case notCommitted(mesh: MeshID)
    case badSignature
    /// The settings shown beside the charter are not the ones it signs.
    case settingsDiffer

    public var description: String {
        switch self {
        case .malformed(let error): return "the charter is malformed: \(error)"
        case .unsupportedFormat(let format):
            return "charter format \(format) is unknown (a newer smegmesh made it)"
        case .notCommitted(let mesh): return "mesh id \(mesh) does not commit to the charter's owner key"
        case .badSignature: return "the owner's signature does not verify"
        case .settingsDiffer: return "the name or route policy differ from the ones the owner signed"
        }
    }
}
