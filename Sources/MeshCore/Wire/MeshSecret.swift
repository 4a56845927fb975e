/// The 32-byte secret every member of a mesh shares; holding it is what admission means.
///
/// Never used directly as a key: `FrameSealer` derives its key from it with a domain string and
/// the mesh id, so the secret can later key other things without two uses ever sharing a key.
public struct MeshSecret: RawKey32, CustomStringConvertible {
    public let bytes: [UInt8]

    public init(uncheckedBytes bytes: [UInt8]) {
        self.bytes = bytes
    }

    public static func generate() throws -> MeshSecret {
        MeshSecret(bytes: try Sodium.randomBytes(byteCount))!
    }

    /// Redacted so that logging a configuration cannot leak admission to the mesh.
    public var description: String { "MeshSecret(redacted)" }

    public static func == (lhs: MeshSecret, rhs: MeshSecret) -> Bool {
        Sodium.constantTimeEqual(lhs.bytes, rhs.bytes)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(bytes)
    }
}
