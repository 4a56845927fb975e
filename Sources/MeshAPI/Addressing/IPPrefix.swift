/// Either address family, for places (routes, endpoints) that accept both.
public enum IPAddress: Hashable, Sendable {
    case v4(IPv4Address)
    case v6(IPv6Address)

    public init?(_ text: String) {
        if let v4 = IPv4Address(text) {
            self = .v4(v4)
        } else if let v6 = IPv6Address(text) {
            self = .v6(v6)
        } else {
            return nil
        }
    }

    public var bitCount: Int {
        switch self {
        case .v4: return 32
        case .v6: return 128
        }
    }

    public var bytes: [UInt8] {
        switch self {
        case .v4(let address): return address.bytes
        case .v6(let address): return address.bytes
        }
    }
}

extension IPAddress: CustomStringConvertible {
    public var description: String {
        switch self {
        case .v4(let address): return address.description
        case .v6(let address): return address.description
        }
    }
}

/// A CIDR prefix such as `fd12:3456:789a::/48` or `10.1.0.0/16`.
///
/// Host bits must be zero: `10.1.0.1/16` is rejected instead of silently rounded, because a
/// record that says one thing and means another cannot be checked by a person reading it.
public struct IPPrefix: Hashable, Sendable {
    public let address: IPAddress
    public let length: Int

    /// Returns nil when `length` exceeds the family's width or any host bit is set.
    public init?(address: IPAddress, length: Int) {
        guard length >= 0, length <= address.bitCount else { return nil }
        guard Self.mask(address, length: length) == address else { return nil }
        self.address = address
        self.length = length
    }

    /// The prefix of `length` bits that contains `address`, clearing its host bits.
    public init?(containing address: IPAddress, length: Int) {
        guard length >= 0, length <= address.bitCount else { return nil }
        self.address = Self.mask(address, length: length)
        self.length = length
    }

    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPAddress(String(parts[0])),
            let length = Self.parseLength(parts[1])
        else { return nil }
        self.init(address: address, length: length)
    }

    public static let ipv4Default = IPPrefix(address: .v4(.any), length: 0)!
    public static let ipv6Default = IPPrefix(address: .v6(.any), length: 0)!

    /// True for `0.0.0.0/0` and `::/0`: routes that would carry all of a member's traffic.
    public var isDefaultRoute: Bool { length == 0 }

    public func contains(_ other: IPAddress) -> Bool {
        guard other.bitCount == address.bitCount else { return false }
        return Self.mask(other, length: length) == address
    }

    /// True when every address of `other` lies inside this prefix.
    public func covers(_ other: IPPrefix) -> Bool {
        other.length >= length && contains(other.address)
    }

    /// True when the two share an address: one covers the other (prefixes nest or are apart).
    public func overlaps(_ other: IPPrefix) -> Bool { covers(other) || other.covers(self) }

    private static func parseLength(_ text: Substring) -> Int? {
        guard (1...3).contains(text.utf8.count), text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
            text == "0" || !text.hasPrefix("0")
        else { return nil }
        return Int(text)
    }

    private static func mask(_ address: IPAddress, length: Int) -> IPAddress {
        switch address {
        case .v4(let v4):
            let mask: UInt32 = length == 0 ? 0 : UInt32.max << UInt32(32 - length)
            return .v4(IPv4Address(v4.value & mask))
        case .v6(let v6):
            let highMask: UInt64 = length == 0 ? 0 : (length >= 64 ? UInt64.max : UInt64.max << UInt64(64 - length))
            let lowMask: UInt64 = length <= 64 ? 0 : (length == 128 ? UInt64.max : UInt64.max << UInt64(128 - length))
            return .v6(IPv6Address(high: v6.high & highMask, low: v6.low & lowMask))
        }
    }
}

extension IPPrefix: CustomStringConvertible {
    public var description: String { "\(address)/\(length)" }
}

extension IPPrefix: Comparable {
    /// IPv4 before IPv6, then by address bytes, then shorter first: a stable order for output
    /// and for deterministic choices.
    public static func < (lhs: IPPrefix, rhs: IPPrefix) -> Bool {
        let left = lhs.address.bytes
        let right = rhs.address.bytes
        if left.count != right.count { return left.count < right.count }
        if left != right { return left.lexicographicallyPrecedes(right) }
        return lhs.length < rhs.length
    }
}
