import CSodium

extension Sodium {
    /// X25519 Diffie-Hellman (`crypto_scalarmult`). Returns nil when libsodium refuses: the result
    /// is all zeros, which happens exactly when `publicKey` has small order. Such a "shared
    /// secret" is the same for every private key, so anyone could compute it; callers must treat
    /// nil as a hostile or broken peer key, never substitute zeros.
    static func x25519(privateKey: [UInt8], publicKey: [UInt8]) -> [UInt8]? {
        guard privateKey.count == x25519KeyBytes, publicKey.count == x25519KeyBytes else { return nil }
        _ = try? ensureReady()
        var out = [UInt8](repeating: 0, count: x25519KeyBytes)
        guard crypto_scalarmult(&out, privateKey, publicKey) == 0 else { return nil }
        return out
    }
}
