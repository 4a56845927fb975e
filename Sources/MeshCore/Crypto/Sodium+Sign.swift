import CSodium

extension Sodium {
    public static let ed25519SeedBytes = 32
    public static let ed25519PublicKeyBytes = 32
    public static let ed25519SignatureBytes = 64
    public static let x25519KeyBytes = 32

    /// Expands a 32-byte seed into libsodium's 64-byte secret key (seed ‖ public key) and the
    /// public key. Only the seed is ever stored: everything else is recomputed from it.
    static func ed25519KeyPair(seed: [UInt8]) -> (publicKey: [UInt8], secretKey: [UInt8]) {
        precondition(seed.count == ed25519SeedBytes)
        _ = try? ensureReady()
        var publicKey = [UInt8](repeating: 0, count: ed25519PublicKeyBytes)
        var secretKey = [UInt8](repeating: 0, count: 64)
        _ = crypto_sign_seed_keypair(&publicKey, &secretKey, seed)
        return (publicKey, secretKey)
    }

    static func ed25519Sign(_ message: [UInt8], secretKey: [UInt8]) -> [UInt8] {
        precondition(secretKey.count == 64)
        var signature = [UInt8](repeating: 0, count: ed25519SignatureBytes)
        _ = crypto_sign_detached(&signature, nil, message, UInt64(message.count), secretKey)
        return signature
    }

    /// libsodium rejects non-canonical signatures and small-order public keys here, which is the
    /// strict verification a replicated store needs (one record must have one valid encoding).
    static func ed25519Verify(_ signature: [UInt8], message: [UInt8], publicKey: [UInt8]) -> Bool {
        guard signature.count == ed25519SignatureBytes, publicKey.count == ed25519PublicKeyBytes else {
            return false
        }
        _ = try? ensureReady()
        return crypto_sign_verify_detached(signature, message, UInt64(message.count), publicKey) == 0
    }

    /// The birational map from the Edwards curve to Montgomery form. Returns nil for points the
    /// conversion rejects (small order or not on the curve), which no honest key produces.
    static func ed25519PublicToX25519(_ publicKey: [UInt8]) -> [UInt8]? {
        guard publicKey.count == ed25519PublicKeyBytes else { return nil }
        _ = try? ensureReady()
        var out = [UInt8](repeating: 0, count: x25519KeyBytes)
        guard crypto_sign_ed25519_pk_to_curve25519(&out, publicKey) == 0 else { return nil }
        return out
    }

    static func ed25519SecretToX25519(_ secretKey: [UInt8]) -> [UInt8] {
        precondition(secretKey.count == 64)
        var out = [UInt8](repeating: 0, count: x25519KeyBytes)
        _ = crypto_sign_ed25519_sk_to_curve25519(&out, secretKey)
        return out
    }

    /// X25519 base-point multiplication: the public key WireGuard computes from a private key.
    static func x25519PublicKey(privateKey: [UInt8]) -> [UInt8]? {
        guard privateKey.count == x25519KeyBytes else { return nil }
        _ = try? ensureReady()
        var out = [UInt8](repeating: 0, count: x25519KeyBytes)
        guard crypto_scalarmult_curve25519_base(&out, privateKey) == 0 else { return nil }
        return out
    }
}
