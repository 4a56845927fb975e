import CSodium

extension Sodium {
    public static let xchachaKeyBytes = 32
    public static let xchachaNonceBytes = 24
    public static let xchachaTagBytes = 16

    static func xchachaSeal(
        _ plaintext: [UInt8], additionalData: [UInt8], nonce: [UInt8], key: [UInt8]
    ) -> [UInt8] {
        precondition(nonce.count == xchachaNonceBytes && key.count == xchachaKeyBytes)
        _ = try? ensureReady()
        var out = [UInt8](repeating: 0, count: plaintext.count + xchachaTagBytes)
        var written: UInt64 = 0
        _ = crypto_aead_xchacha20poly1305_ietf_encrypt(
            &out, &written, plaintext, UInt64(plaintext.count), additionalData,
            UInt64(additionalData.count), nil, nonce, key)
        return out
    }

    /// Returns nil when the tag does not verify: wrong key, wrong associated data or any
    /// modified byte. libsodium writes no plaintext in that case.
    static func xchachaOpen(
        _ ciphertext: ArraySlice<UInt8>, additionalData: [UInt8], nonce: [UInt8], key: [UInt8]
    ) -> [UInt8]? {
        guard ciphertext.count >= xchachaTagBytes, nonce.count == xchachaNonceBytes,
            key.count == xchachaKeyBytes
        else { return nil }
        _ = try? ensureReady()
        var out = [UInt8](repeating: 0, count: ciphertext.count - xchachaTagBytes)
        var written: UInt64 = 0
        let status = ciphertext.withUnsafeBufferPointer { cipher in
            crypto_aead_xchacha20poly1305_ietf_decrypt(
                &out, &written, nil, cipher.baseAddress!, UInt64(cipher.count), additionalData,
                UInt64(additionalData.count), nonce, key)
        }
        guard status == 0 else { return nil }
        return out
    }
}
