/// Everything a new node needs to join: mesh id, mesh secret and where to find members, in one
/// string an operator can paste into `smegctl join`.
///
/// Text form: `smeg1-` followed by lowercase base32 of
/// `mesh id (10) ‖ secret (32) ‖ count (1) ‖ endpoints ‖ settings ‖ checksum (4)`, where the
/// checksum is the first 4 bytes of BLAKE2b-256("smegmesh/v1/invite-checksum\0" ‖ everything
/// before it). The checksum turns a mistyped or truncated token into an immediate, specific error
/// (a random mistake passes with probability 2^-32). `1` in the prefix is the format version.
///
/// `settings` are optional tagged fields that every member of the mesh must agree on and that
/// the creator decides: the mesh's name and its route policy. A token of a mesh with neither is
/// byte-for-byte the same as before they existed. Since any holder of the secret can write a
/// token, a mesh with an owner also carries its `MeshCharter`, which signs those settings; a
/// token value with a charter has been checked to match it.
public struct InviteToken: Hashable, Sendable {
    public static let prefix = InviteResponse.tokenPrefix
    public static let maxEndpoints = 8
    /// Enough for 8 maximal DNS names, the longest mesh name and the largest policy, in plain
    /// and again in the charter; checked before anything is decoded.
    public static let maxTextLength = 4600
    static let checksumDomain: [UInt8] = Array("smegmesh/v1/invite-checksum".utf8) + [0]
    static let checksumLength = 4

    public let mesh: MeshID
    public let secret: MeshSecret
    public let bootstrap: [Endpoint]
    /// The mesh's human name (a DNS label), if the creator gave one.
    public let name: String?
    /// Which advertised routes members accept; all members must use the same.
    public let policy: RoutePolicy
    /// The owner's signature over `name` and `policy`; nil for a mesh made before owners
    /// existed, whose settings nobody can vouch for.
    public let charter: MeshCharter?

    /// Fails when `charter` is for another mesh or signs another name or policy.
    public init(
        mesh: MeshID, secret: MeshSecret, bootstrap: [Endpoint], name: String? = nil, policy: RoutePolicy = .default,
        charter: MeshCharter? = nil
    ) throws(InviteTokenError) {
        guard (1...Self.maxEndpoints).contains(bootstrap.count) else { throw .endpointCount(bootstrap.count) }
        if let name, !DNSName.isValidLabel(Array(name.utf8)) {
            throw .malformed(.invalid(field: "name", reason: "not a DNS label"))
        }
        guard policy.allowedPrefixes.count <= MeshSettingsLimits.maxAllowedPrefixes else {
            throw .malformed(
                .invalid(field: "policy", reason: "more than \(MeshSettingsLimits.maxAllowedPrefixes) prefixes"))
        }
        if let charter {
            guard charter.mesh == mesh else { throw .unsignedSettings(.notCommitted(mesh: mesh)) }
            guard charter.name == name, charter.policy == policy else { throw .unsignedSettings(.settingsDiffer) }
        }
        self.mesh = mesh
        self.secret = secret
        self.bootstrap = bootstrap
        self.name = name
        self.policy = policy
        self.charter = charter
    }

    /// A token of a mesh with an owner: name and policy are the ones the charter signs.
    public init(secret: MeshSecret, bootstrap: [Endpoint], charter: MeshCharter) throws(InviteTokenError) {
        try self.init(
            mesh: charter.mesh, secret: secret, bootstrap: bootstrap, name: charter.name, policy: charter.policy,
            charter: charter)
    }

    public var text: String {
        var writer = ByteWriter(capacity: 128)
        writer.writeBytes(mesh.bytes)
        writer.writeBytes(secret.bytes)
        writer.writeCount(bootstrap.count, limit: Self.maxEndpoints)
        for endpoint in bootstrap { writer.writeEndpoint(endpoint) }
        MeshSettingsCodec.write(name: name, policy: policy, to: &writer)
        if let charter { MeshSettingsCodec.write(charter: charter, to: &writer) }
        let body = writer.bytes
        return Self.prefix + Base32.encode(body + Self.checksum(body[...]))
    }

    /// Parses a token as pasted: surrounding whitespace is ignored and letters may be uppercase.
    public init(_ input: String) throws(InviteTokenError) {
        let body = try Self.unwrap(input, prefix: Self.prefix)
        let fields: Fields
        do {
            fields = try Self.decodeBody(body)
        } catch {
            throw .malformed(error)
        }
        var charter: MeshCharter?
        if let bytes = fields.settings.charter {
            do {
                charter = try MeshCharter(bytes: bytes, mesh: fields.mesh)
            } catch {
                throw .unsignedSettings(error)
            }
        }
        try self.init(
            mesh: fields.mesh, secret: fields.secret, bootstrap: fields.bootstrap, name: fields.settings.name,
            policy: fields.settings.policy, charter: charter)
    }

    private struct Fields {
        var mesh: MeshID
        var secret: MeshSecret
        var bootstrap: [Endpoint]
        var settings: MeshSettingsCodec.Settings
    }

    private static func decodeBody(_ body: ArraySlice<UInt8>) throws(WireError) -> Fields {
        var reader = ByteReader(body)
        let mesh = try reader.readMeshID("mesh id")
        let secret = MeshSecret(bytes: try reader.readBytes(MeshSecret.byteCount, "secret"))!
        let count = try reader.readCount("endpoints", limit: Self.maxEndpoints, minimumElementSize: 7)
        var endpoints: [Endpoint] = []
        for _ in 0..<count { endpoints.append(try reader.readEndpoint("endpoint", allowNames: true)) }
        let settings = try MeshSettingsCodec.read(from: &reader, allowCharter: true)
        try reader.finish()
        return Fields(mesh: mesh, secret: secret, bootstrap: endpoints, settings: settings)
    }

    /// The checked body of a pasted token with `prefix` (`smeg1-` or `smeg2-`): whitespace
    /// trimmed, base32 decoded, checksum verified. Names the other format when it is one.
    static func unwrap(_ input: String, prefix: String) throws(InviteTokenError) -> ArraySlice<UInt8> {
        let trimmed = input.utf8.drop { Self.isSpace($0) }.reversed().drop { Self.isSpace($0) }.reversed()
        guard trimmed.count <= Self.maxTextLength else { throw .tooLong(trimmed.count) }
        let text = Substring(decoding: Array(trimmed), as: UTF8.self)
        guard text.lowercased().hasPrefix(prefix) else {
            if text.lowercased().hasPrefix("smeg") && text.contains("-") { throw .unsupportedVersion }
            throw .missingPrefix
        }
        let encoded = text.dropFirst(prefix.count)
        for (offset, scalar) in encoded.unicodeScalars.enumerated()
        where !scalar.isASCII || !Self.isBase32(UInt8(scalar.value)) {
            throw .badCharacter(Character(scalar), position: prefix.count + offset + 1)
        }
        guard let bytes = Base32.decode(encoded.utf8), bytes.count > Self.checksumLength else { throw .badLength }
        let body = bytes.dropLast(Self.checksumLength)
        guard Sodium.constantTimeEqual(Self.checksum(body), Array(bytes.suffix(Self.checksumLength))) else {
            throw .checksumMismatch
        }
        return body
    }

    static func checksum(_ body: ArraySlice<UInt8>) -> [UInt8] {
        Array(Sodium.blake2b([checksumDomain, Array(body)], outputLength: 32).prefix(checksumLength))
    }

    private static func isSpace(_ char: UInt8) -> Bool {
        char == 0x20 || char == 0x09 || char == 0x0A || char == 0x0D
    }

    private static func isBase32(_ char: UInt8) -> Bool {
        let lower = char | 0x20
        return (lower >= UInt8(ascii: "a") && lower <= UInt8(ascii: "z"))
            || (char >= UInt8(ascii: "2") && char <= UInt8(ascii: "7"))
    }
}

extension InviteToken: CustomStringConvertible {
    /// Leaves the secret out, so a token can be logged by accident without admitting anyone.
    public var description: String {
        "InviteToken(mesh: \(mesh), bootstrap: \(bootstrap.map(\.description).joined(separator: ", ")))"
    }
}

/// Why a token was refused, in words that tell the person what to do.
public enum InviteTokenError: Error, Equatable, Sendable, CustomStringConvertible {
    case missingPrefix
    case unsupportedVersion
    case tooLong(Int)
    case badCharacter(Character, position: Int)
    case badLength
    case checksumMismatch
    case endpointCount(Int)
    case malformed(WireError)
    /// The token carries a charter, and it does not vouch for the token's settings.
    case unsignedSettings(MeshCharterError)
    /// An invitation whose owner-signed ticket does not verify.
    case badTicket(InviteTicketError)

    public var description: String {
        let recopy = "copy the whole token again from the output of `smegctl create` or `smegctl invite`"
        switch self {
        case .missingPrefix:
            return "invalid token (it must start with \"\(InviteToken.prefix)\"); \(recopy)"
        case .unsupportedVersion:
            return
                "invalid token (made by a different smegmesh version; this one reads \"\(InviteToken.prefix)\" tokens)"
        case .tooLong(let length):
            return "invalid token (\(length) characters, at most \(InviteToken.maxTextLength)); \(recopy)"
        case .badCharacter(let char, let position):
            return
                "invalid token (character \"\(char)\" at position \(position); tokens use only a-z and 2-7); \(recopy)"
        case .badLength:
            return "invalid token (wrong length, probably cut short); \(recopy)"
        case .checksumMismatch:
            return "invalid token (checksum mismatch: a character is wrong or missing); \(recopy)"
        case .endpointCount(let count):
            return "invalid token (\(count) bootstrap endpoints; between 1 and \(InviteToken.maxEndpoints) are allowed)"
        case .malformed(let error):
            return "invalid token (\(error)); \(recopy)"
        case .badTicket(let reason):
            return "invalid invitation (\(reason)); \(recopy)"
        case .unsignedSettings(let reason):
            return "this token's settings are not signed by the mesh's owner (\(reason)); "
                + "ask an owner for a new token"
        }
    }
}
