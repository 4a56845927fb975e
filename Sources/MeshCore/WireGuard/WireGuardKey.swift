import CSodium

/// A 32-byte WireGuard key (private, public or preshared) with `wg`'s base64 text form.
///
/// The device model uses one key type for all three roles, as the kernel and UAPI interfaces do,
/// so the backends stay simple; the identity layer keeps its own role-typed keys and converts
/// through `bytes`. Formatting goes through libsodium, which MeshCore already links.
public struct WireGuardKey: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    public static let byteCount = 32
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.byteCount else { return nil }
        self.bytes = bytes
    }

    /// Parses the 44-character base64 form `wg genkey` prints.
    public init?(base64: String) {
        let text = Array(base64.utf8)
        var decoded = [UInt8](repeating: 0, count: Self.byteCount)
        var length = 0
        let status = sodium_base642bin(
            &decoded, decoded.count, text.map { CChar(bitPattern: $0) }, text.count, nil, &length, nil,
            sodium_base64_VARIANT_ORIGINAL)
        guard status == 0, length == Self.byteCount else { return nil }
        self.bytes = decoded
    }

    /// Parses the 64-character lowercase hex form the UAPI protocol uses.
    public init?(hex: String) {
        let text = Array(hex.utf8)
        guard text.count == Self.byteCount * 2 else { return nil }
        var decoded: [UInt8] = []
        decoded.reserveCapacity(Self.byteCount)
        var index = 0
        while index < text.count {
            guard let high = Self.nibble(text[index]), let low = Self.nibble(text[index + 1]) else { return nil }
            decoded.append(high << 4 | low)
            index += 2
        }
        self.bytes = decoded
    }

    /// The all-zero key, which the kernel and UAPI read as "remove the key".
    public static let zero = WireGuardKey(bytes: [UInt8](repeating: 0, count: byteCount))!

    public var base64: String {
        // 4 * ceil(32 / 3) characters plus the terminating NUL.
        var out = [CChar](repeating: 0, count: 45)
        _ = sodium_bin2base64(&out, out.count, bytes, bytes.count, sodium_base64_VARIANT_ORIGINAL)
        return String(decoding: out.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(Self.byteCount * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public var isZero: Bool { bytes.allSatisfy { $0 == 0 } }

    public var description: String { base64 }

    /// A fresh private key, clamped as `wg genkey` does.
    public static func generatePrivate() throws -> WireGuardKey {
        var bytes = try Sodium.randomBytes(byteCount)
        bytes[0] &= 248
        bytes[31] = (bytes[31] & 127) | 64
        return WireGuardKey(bytes: bytes)!
    }

    /// The Curve25519 public key of this private key (`wg pubkey`).
    public func publicKey() throws -> WireGuardKey {
        try Sodium.ensureReady()
        var out = [UInt8](repeating: 0, count: Self.byteCount)
        guard crypto_scalarmult_curve25519_base(&out, bytes) == 0 else { throw WireGuardError.invalidKey }
        return WireGuardKey(bytes: out)!
    }

    public static func < (lhs: WireGuardKey, rhs: WireGuardKey) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let key = WireGuardKey(base64: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad key"))
        }
        self = key
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(base64)
    }

    private static func nibble(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return character - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
