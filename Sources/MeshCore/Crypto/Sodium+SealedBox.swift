import CSodium

extension Sodium {
    /// Bytes a sealed box adds: an ephemeral X25519 key and a Poly1305 tag.
    public static let sealedBoxOverhead = 48

    /// Seals `message` to an X25519 public key (`crypto_box_seal`): only the holder of the
    /// private key can open it, and the sender stays anonymous, so it proves nothing about who
    /// sealed it; whatever it carries must be signed if that matters. Nil for a refused key.
    static func sealedBox(_ message: [UInt8], to publicKey: [UInt8]) -> [UInt8]? {
        guard publicKey.count == x25519KeyBytes else { return nil }
        _ = try? ensureReady()
        var out = [UInt8](repeating: 0, count: message.count + sealedBoxOverhead)
        guard crypto_box_seal(&out, message, UInt64(message.count), publicKey) == 0 else { return nil }
        return out
    }

    /// Opens a sealed box with this node's X25519 key pair; nil unless it was sealed to it.
    static func openSealedBox(_ box: [UInt8], publicKey: [UInt8], privateKey: [UInt8]) -> [UInt8]? {
        guard box.count >= sealedBoxOverhead, publicKey.count == x25519KeyBytes, privateKey.count == x25519KeyBytes
        else { return nil }
        _ = try? ensureReady()
        var out = [UInt8](repeating: 0, count: box.count - sealedBoxOverhead)
        guard crypto_box_seal_open(&out, box, UInt64(box.count), publicKey, privateKey) == 0 else { return nil }
        return out
    }
}
