import CSodium

/// Base64 through libsodium. Decoding accepts only the canonical encoding (padding as the
/// variant requires, zero trailing bits, nothing after the data), so a key has one text form.
enum Base64 {
    enum Variant {
        /// RFC 4648 §4 with padding: the form `wg` prints and reads keys in.
        case standard
        /// RFC 4648 §5 without padding: safe in URLs and file names.
        case urlSafeUnpadded

        var sodiumValue: Int32 {
            switch self {
            case .standard: return sodium_base64_VARIANT_ORIGINAL
            case .urlSafeUnpadded: return sodium_base64_VARIANT_URLSAFE_NO_PADDING
            }
        }
    }

    static func encode(_ bytes: [UInt8], variant: Variant = .standard) -> String {
        _ = try? Sodium.ensureReady()
        let length = smeg_sodium_base64_encoded_len(bytes.count, variant.sodiumValue)
        var out = [CChar](repeating: 0, count: length)
        _ = sodium_bin2base64(&out, length, bytes, bytes.count, variant.sodiumValue)
        return String(decoding: out.prefix(length - 1).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Decodes padded standard base64 of whatever length the text says (its length and
    /// padding fix the byte count); nil unless it is exactly such an encoding.
    static func decodeAnyLength(_ text: String) -> [UInt8]? {
        let count = text.utf8.count
        guard count % 4 == 0 else { return nil }
        let padding = text.utf8.reversed().prefix(2).prefix { $0 == UInt8(ascii: "=") }.count
        return decode(text, expectedLength: count / 4 * 3 - padding)
    }

    /// Returns nil unless `text` is exactly the encoding of `expectedLength` bytes.
    static func decode(_ text: String, expectedLength: Int, variant: Variant = .standard) -> [UInt8]? {
        _ = try? Sodium.ensureReady()
        let input = Array(text.utf8)
        guard input.count <= smeg_sodium_base64_encoded_len(expectedLength, variant.sodiumValue) else {
            return nil
        }
        var out = [UInt8](repeating: 0, count: expectedLength)
        var written = 0
        var end: UnsafePointer<CChar>? = nil
        let status = input.withUnsafeBufferPointer { raw in
            raw.withMemoryRebound(to: CChar.self) { chars in
                sodium_base642bin(
                    &out, expectedLength, chars.baseAddress, chars.count, nil, &written, &end,
                    variant.sodiumValue)
            }
        }
        // libsodium stops at the first character it cannot use and reports success; requiring the
        // input to be exactly our own encoding rules out trailing bytes and any second spelling.
        guard status == 0, written == expectedLength, encode(out, variant: variant) == text else { return nil }
        return out
    }
}
