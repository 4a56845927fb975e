import GossipCRDT

/// The shape shared by every 32-byte key: raw bytes checked for length once, and `wg`'s base64.
public protocol RawKey32: Hashable, Sendable {
    var bytes: [UInt8] { get }
    init(uncheckedBytes: [UInt8])
}

extension RawKey32 {
    public static var byteCount: Int { 32 }

    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.byteCount else { return nil }
        self.init(uncheckedBytes: bytes)
    }

    /// Parses the base64 form `wg` prints and reads (44 characters, one `=` of padding).
    public init?(base64: String) {
        guard let bytes = Base64.decode(base64, expectedLength: Self.byteCount) else { return nil }
        self.init(uncheckedBytes: bytes)
    }

    public var base64: String { Base64.encode(bytes) }
}

/// An Ed25519 public key: what a node signs its records with.
public struct SigningPublicKey: RawKey32 {
    public let bytes: [UInt8]

    public init(uncheckedBytes bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The WireGuard public key this signing key maps to, or nil for the (never honest) points
    /// the conversion rejects. A record whose WireGuard key differs from this is forged.
    /// Memoized (`SignatureMemo`): records are checked against it at every version.
    public var derivedWireGuardKey: WireGuardPublicKey? {
        SignatureMemo.shared.x25519(ofSigningKey: bytes).flatMap(WireGuardPublicKey.init(bytes:))
    }

    /// Memoized (`SignatureMemo`): the same admission statement arrives with every version of
    /// a member's record.
    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        SignatureMemo.shared.isValid(signature, message: message, publicKey: bytes)
    }
}

/// A WireGuard (X25519) public key. It doubles as the node's id in the replicated store, so the
/// key WireGuard authenticates and the key gossip names are one and the same.
public struct WireGuardPublicKey: RawKey32, Comparable {
    public let bytes: [UInt8]

    public init(uncheckedBytes bytes: [UInt8]) {
        self.bytes = bytes
    }

    public init(nodeID: NodeID) {
        self.bytes = nodeID.bytes
    }

    public var nodeID: NodeID {
        // 32 bytes by construction, so the failable initializer cannot fail.
        NodeID(bytes: bytes)!
    }

    public static func < (lhs: WireGuardPublicKey, rhs: WireGuardPublicKey) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }
}

extension WireGuardPublicKey: CustomStringConvertible {
    public var description: String { base64 }
}

/// A WireGuard private key, derived from the node's Ed25519 seed. Its `description` is redacted
/// so that logging a configuration by accident cannot leak it.
public struct WireGuardPrivateKey: RawKey32, CustomStringConvertible {
    public let bytes: [UInt8]

    public init(uncheckedBytes bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// X25519 of the base point, computed the way WireGuard computes it.
    public var publicKey: WireGuardPublicKey? {
        Sodium.x25519PublicKey(privateKey: bytes).flatMap(WireGuardPublicKey.init(bytes:))
    }

    public var description: String { "WireGuardPrivateKey(redacted)" }
}
