/// Size and character rules for node records. Bounded so that one member cannot make every other
/// member store, forward and print unbounded data, and restricted to characters that are safe in a
/// terminal, a DOT label, a DNS answer and JSON without escaping surprises.
public enum RecordLimits {
    public static let maxEndpoints = 8
    public static let maxAliasLength = 63
    public static let maxDescriptionLength = 200
    public static let maxServices = 16
    public static let maxServiceKeyLength = 32
    public static let maxServiceValueLength = 128
    public static let maxRoutes = 16
    public static let maxPathLength = 8
    /// Upper bound of a whole signed record, checked before decoding anything else.
    public static let maxEncodedSize = 2048

    /// An alias is a single lowercase DNS label (or empty), so the DNS responder can answer for
    /// `<alias>.<domain>` with no escaping and no case folding.
    public static func isValidAlias(_ alias: String) -> Bool {
        alias.isEmpty || DNSName.isValidLabel(alias.utf8)
    }

    /// Printable ASCII only: no control characters (terminal escapes), no bidi overrides or
    /// look-alike letters from other scripts.
    public static func isValidText(_ text: String, limit: Int) -> Bool {
        let utf8 = text.utf8
        return utf8.count <= limit && utf8.allSatisfy { $0 >= 0x20 && $0 <= 0x7E }
    }

    /// 1...32 of `a-z 0-9 . _ -`, starting with a letter or digit: usable as a metric label,
    /// a JSON key or a DNS SRV-style name.
    public static func isValidServiceKey(_ key: String) -> Bool {
        let utf8 = key.utf8
        guard let first = utf8.first, utf8.count <= maxServiceKeyLength, isAlphanumeric(first) else {
            return false
        }
        return utf8.allSatisfy {
            isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")
        }
    }

    private static func isAlphanumeric(_ char: UInt8) -> Bool {
        (char >= UInt8(ascii: "a") && char <= UInt8(ascii: "z"))
            || (char >= UInt8(ascii: "0") && char <= UInt8(ascii: "9"))
    }
}
