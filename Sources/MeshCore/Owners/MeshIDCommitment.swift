extension MeshID {
    /// Length of the random salt hashed with the first owner key into a mesh id.
    public static let saltByteCount = 16
    static let commitmentDomain: [UInt8] = Array("smegmesh/v2/mesh-id".utf8) + [0]

    /// The mesh id that commits to `owner`: the first 10 bytes of
    /// BLAKE2b-256("smegmesh/v2/mesh-id\0" ‖ owner key ‖ salt).
    ///
    /// Because every member already knows the mesh id, a charter that names its owner key and
    /// salt can be checked against it with nothing else: holding the mesh secret does not let
    /// anyone present a different owner, short of a second preimage of 80 bits (about 2^80
    /// hashes). The salt keeps the id random even though the key is public, so two meshes made
    /// with one key (or a key reused by mistake) still get unrelated prefixes and interfaces.
    /// Returns nil when the salt has the wrong length.
    public static func committing(to owner: SigningPublicKey, salt: [UInt8]) -> MeshID? {
        guard salt.count == saltByteCount else { return nil }
        let digest = Sodium.blake2b([commitmentDomain, owner.bytes, salt], outputLength: 32)
        return MeshID(bytes: Array(digest.prefix(byteCount)))
    }
}
