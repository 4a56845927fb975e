import GossipCRDT

/// Seals and opens gossip frames (layout in docs/protocol.md, "Frame").
///
/// ```
/// "SMEG" | version 1 | mesh id (10) | nonce (24) | XChaCha20-Poly1305(sender (32) ‖ message)
/// ```
/// The clear header is the associated data, so the mesh id is authenticated without being secret:
/// a node in several meshes reads it to pick the key, and a frame relabelled with another mesh id
/// fails to open. Nonces are random: 24 bytes make a collision negligible without any counter
/// state to persist across restarts.
///
/// The sender field is covered by the tag but any member could have written it, since all members
/// share the key; trust in a member's data comes from its signed record, never from this field.
public struct FrameSealer: Sendable {
    public static let magic: [UInt8] = Array("SMEG".utf8)
    public static let version: UInt8 = 1
    public static let headerSize = 4 + 1 + MeshID.byteCount
    public static let overhead = headerSize + Sodium.xchachaNonceBytes + Sodium.xchachaTagBytes + NodeID.byteCount
    /// Largest frame accepted or produced: one UDP datagram.
    public static let maxFrameSize = 65_507
    public static let maxMessageSize = maxFrameSize - overhead
    static let keyDomain: [UInt8] = Array("smegmesh/v1/frame-key".utf8) + [0]

    public let mesh: MeshID
    private let key: [UInt8]
    private let header: [UInt8]

    public init(mesh: MeshID, secret: MeshSecret) {
        self.mesh = mesh
        self.key = Sodium.blake2b([Self.keyDomain, Array(mesh.text.utf8)], outputLength: 32, key: secret.bytes)
        self.header = Self.magic + [Self.version] + mesh.bytes
    }

    public func seal(sender: NodeID, message: [UInt8]) throws -> [UInt8] {
        try seal(sender: sender, message: message, nonce: Sodium.randomBytes(Sodium.xchachaNonceBytes))
    }

    /// Deterministic sealing for test vectors. Reusing a nonce under one key breaks the AEAD, so
    /// production code must use `seal(sender:message:)`.
    func seal(sender: NodeID, message: [UInt8], nonce: [UInt8]) throws(WireError) -> [UInt8] {
        guard message.count <= Self.maxMessageSize else {
            throw .tooLarge(field: "message", length: message.count, limit: Self.maxMessageSize)
        }
        let sealed = Sodium.xchachaSeal(sender.bytes + message, additionalData: header, nonce: nonce, key: key)
        return header + nonce + sealed
    }

    /// Opens a frame received for this mesh. Every failure is a `WireError`, never a trap.
    public func open<C: Collection>(_ frame: C) throws(WireError) -> (sender: NodeID, message: [UInt8])
    where C.Element == UInt8 {
        guard frame.count <= Self.maxFrameSize else {
            throw .tooLarge(field: "frame", length: frame.count, limit: Self.maxFrameSize)
        }
        let bytes = Array(frame)
        var reader = ByteReader(bytes)
        guard try Self.readMeshID(&reader) == mesh else { throw .wrongMesh }
        let nonce = try reader.readBytes(Sodium.xchachaNonceBytes, "nonce")
        let sealed = reader.readRest()
        guard sealed.count >= Sodium.xchachaTagBytes + NodeID.byteCount else { throw .truncated(field: "frame") }
        guard let plaintext = Sodium.xchachaOpen(sealed, additionalData: header, nonce: nonce, key: key) else {
            throw .authenticationFailed
        }
        let sender = NodeID(bytes: plaintext.prefix(NodeID.byteCount))!
        return (sender, Array(plaintext.dropFirst(NodeID.byteCount)))
    }

    /// The mesh a frame claims to belong to, read before any key is chosen. Unauthenticated until
    /// the frame opens.
    public static func meshID<C: Collection>(of frame: C) throws(WireError) -> MeshID where C.Element == UInt8 {
        var reader = ByteReader(Array(frame.prefix(headerSize)))
        return try readMeshID(&reader)
    }

    private static func readMeshID(_ reader: inout ByteReader) throws(WireError) -> MeshID {
        guard try reader.readSlice(4, "magic").elementsEqual(magic) else { throw .badMagic }
        let version = try reader.readU8("version")
        guard version == Self.version else { throw .unsupportedVersion(version) }
        return try reader.readMeshID("mesh id")
    }
}
