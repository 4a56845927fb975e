/// RFC 4648 base32 in lowercase without padding. Chosen for mesh ids and invite tokens because
/// it survives every medium people paste into (no `+`, `/`, `=`, or mixed case to mistype) and
/// reads aloud unambiguously (no 0/O or 1/l pairs in the alphabet).
enum Base32 {
    static let alphabet: [UInt8] = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 8 + 4) / 5)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = buffer << 8 | UInt32(byte)
            bits += 8
            while bits >= 5 {
                bits -= 5
                out.append(alphabet[Int((buffer >> UInt32(bits)) & 31)])
            }
        }
        if bits > 0 {
            out.append(alphabet[Int((buffer << UInt32(5 - bits)) & 31)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes lowercase or uppercase input. Returns nil for any character outside the alphabet,
    /// for impossible lengths, and for non-zero padding bits, so every value has one encoding.
    static func decode(_ text: Substring.UTF8View) -> [UInt8]? {
        let remainder = text.count % 8
        guard [0, 2, 4, 5, 7].contains(remainder) else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(text.count * 5 / 8)
        var buffer: UInt32 = 0
        var bits = 0
        for char in text {
            guard let value = value(of: char) else { return nil }
            buffer = buffer << 5 | UInt32(value)
            bits += 5
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        guard buffer & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return out
    }

    static func decode(_ text: String) -> [UInt8]? {
        decode(Substring(text).utf8)
    }

    private static func value(of char: UInt8) -> UInt8? {
        switch char {
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return char - UInt8(ascii: "a")
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return char - UInt8(ascii: "A")
        case UInt8(ascii: "2")...UInt8(ascii: "7"): return char - UInt8(ascii: "2") + 26
        default: return nil
        }
    }
}
