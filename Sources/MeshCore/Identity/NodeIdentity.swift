import GossipCRDT

/// One node's identity in one mesh: an Ed25519 key pair and the WireGuard key pair derived from it.
///
/// Only the 32-byte Ed25519 seed is secret state; everything else is recomputed from it, so a
/// restarted node is the same member with the same WireGuard key and overlay address. Deriving the
/// WireGuard key (instead of generating a second key) lets every receiver check that a record's
/// WireGuard key belongs to the key that signed it.
public struct NodeIdentity: Sendable, CustomStringConvertible {
    public static let seedByteCount = Sodium.ed25519SeedBytes

    let seed: [UInt8]
    let secretKey: [UInt8]
    public let signingKey: SigningPublicKey
    public let wireGuardPublicKey: WireGuardPublicKey
    public let wireGuardPrivateKey: WireGuardPrivateKey

    /// Rebuilds an identity from its seed; throws when the seed has the wrong length or derives a
    /// key that cannot serve as a node key (see `InterfaceID.isUsable`).
    public init(seed: [UInt8]) throws(IdentityError) {
        guard seed.count == Self.seedByteCount else { throw .badSeedLength(seed.count) }
        let pair = Sodium.ed25519KeyPair(seed: seed)
        guard let signing = SigningPublicKey(bytes: pair.publicKey),
            let wgPublic = signing.derivedWireGuardKey,
            let wgPrivate = WireGuardPrivateKey(bytes: Sodium.ed25519SecretToX25519(pair.secretKey))
        else { throw .unusableKey }
        guard InterfaceID(wireGuardKey: wgPublic).isUsable else { throw .unusableKey }
        self.seed = seed
        self.secretKey = pair.secretKey
        self.signingKey = signing
        self.wireGuardPublicKey = wgPublic
        self.wireGuardPrivateKey = wgPrivate
    }

    /// Draws seeds until one yields a usable key; in practice the first one always does (a
    /// reserved interface id has probability about 2^-57).
    public static func generate() throws -> NodeIdentity {
        while true {
            let seed = try Sodium.randomBytes(seedByteCount)
            if let identity = try? NodeIdentity(seed: seed) { return identity }
        }
    }

    public var nodeID: NodeID { wireGuardPublicKey.nodeID }

    /// The node's overlay address in `mesh`.
    public func address(in mesh: MeshID) -> IPv6Address {
        OverlayAddress.derive(mesh: mesh, wireGuardKey: wireGuardPublicKey)
    }

    /// Ed25519 signature; callers prefix `message` with their own domain-separation string.
    public func sign(_ message: [UInt8]) -> [UInt8] {
        Sodium.ed25519Sign(message, secretKey: secretKey)
    }

    public var description: String { "NodeIdentity(\(wireGuardPublicKey.base64))" }
}

public enum IdentityError: Error, Equatable, CustomStringConvertible {
    case badSeedLength(Int)
    case unusableKey

    public var description: String {
        switch self {
        case .badSeedLength(let count):
            return "an identity seed must be \(NodeIdentity.seedByteCount) bytes, not \(count)"
        case .unusableKey:
            return "this seed derives a key that cannot be a node key (reserved overlay address); generate a new one"
        }
    }
}
