import CSodium

extension Sodium {
    /// BLAKE2b (libsodium's `crypto_generichash`). Every use in MeshCore feeds a distinct
    /// domain-separation string first, so that one derivation can never collide with another.
    ///
    /// - Parameters:
    ///   - parts: concatenated in order; passing pieces avoids building a temporary array.
    ///   - outputLength: 16...64 bytes.
    ///   - key: optional MAC key, 16...64 bytes.
    public static func blake2b(_ parts: [[UInt8]], outputLength: Int, key: [UInt8]? = nil) -> [UInt8] {
        precondition((16...64).contains(outputLength), "BLAKE2b output length out of range")
        if let key { precondition((16...64).contains(key.count), "BLAKE2b key length out of range") }
        // sodium_init only fails when the OS has no entropy source, which hashing does not use.
        _ = try? ensureReady()
        let input = parts.flatMap { $0 }
        var out = [UInt8](repeating: 0, count: outputLength)
        if let key {
            _ = crypto_generichash(&out, outputLength, input, UInt64(input.count), key, key.count)
        } else {
            _ = crypto_generichash(&out, outputLength, input, UInt64(input.count), nil, 0)
        }
        return out
    }
}
