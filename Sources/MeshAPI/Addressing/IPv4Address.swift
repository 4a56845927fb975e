/// An IPv4 address. Parsing accepts only the strict dotted-quad form: no leading zeros (which some
/// C parsers read as octal), no shortened forms like `127.1`, so text from a record or an
/// operator means the same address everywhere.
public struct IPv4Address: Hashable, Comparable, Sendable {
    public let value: UInt32

    public init(_ value: UInt32) {
        self.value = value
    }

    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        self.value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    public init?<C: Collection>(bytes: C) where C.Element == UInt8 {
        guard bytes.count == 4 else { return nil }
        self.value = bytes.reduce(0) { $0 << 8 | UInt32($1) }
    }

    public init?(_ text: String) {
        self.init(utf8: Substring(text).utf8)
    }

    init?(utf8 text: Substring.UTF8View) {
        var parts: [UInt32] = []
        var current: UInt32 = 0
        var digits = 0
        for char in text {
            if char == UInt8(ascii: ".") {
                guard digits > 0, parts.count < 3 else { return nil }
                parts.append(current)
                current = 0
                digits = 0
            } else if char >= UInt8(ascii: "0") && char <= UInt8(ascii: "9") {
                // A leading zero is only allowed as the whole octet ("0"), never as "01".
                guard digits < 3, !(digits == 1 && current == 0) else { return nil }
                current = current * 10 + UInt32(char - UInt8(ascii: "0"))
                digits += 1
                guard current <= 255 else { return nil }
            } else {
                return nil
            }
        }
        guard digits > 0, parts.count == 3 else { return nil }
        parts.append(current)
        self.value = parts.reduce(0) { $0 << 8 | $1 }
    }

    public var bytes: [UInt8] {
        [
            UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
            UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value),
        ]
    }

    public static let any = IPv4Address(0)

    public var isUnspecified: Bool { value == 0 }
    public var isMulticast: Bool { value >> 28 == 0xE }
    public var isBroadcast: Bool { value == UInt32.max }
    public var isLoopback: Bool { value >> 24 == 127 }

    public static func < (lhs: IPv4Address, rhs: IPv4Address) -> Bool { lhs.value < rhs.value }
}

extension IPv4Address: CustomStringConvertible {
    public var description: String { bytes.map(String.init).joined(separator: ".") }
}
