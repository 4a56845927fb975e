/// An IPv6 address, stored as two 64-bit halves so it hashes and compares without allocating.
///
/// Text output follows RFC 5952 (lowercase, no leading zeros, the longest run of two or more zero
/// groups as `::`, IPv4-mapped addresses in dotted form), so two nodes print one address the same
/// way. Parsing accepts every RFC 4291 text form but no zone index (`%eth0`), which has no meaning
/// off the local machine.
public struct IPv6Address: Hashable, Comparable, Sendable {
    public let high: UInt64
    public let low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    public init?<C: Collection>(bytes: C) where C.Element == UInt8 {
        guard bytes.count == 16 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (index, byte) in bytes.enumerated() {
            if index < 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt64(byte) }
        }
        self.init(high: high, low: low)
    }

    public init?(_ text: String) {
        guard let groups = Self.parseGroups(Array(text.utf8)) else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (index, group) in groups.enumerated() {
            if index < 4 { high = high << 16 | UInt64(group) } else { low = low << 16 | UInt64(group) }
        }
        self.init(high: high, low: low)
    }

    public static let any = IPv6Address(high: 0, low: 0)

    public var bytes: [UInt8] {
        (0..<16).map { index in
            let word = index < 8 ? high : low
            return UInt8(truncatingIfNeeded: word >> UInt64(56 - (index % 8) * 8))
        }
    }

    /// The eight 16-bit groups, most significant first.
    public var groups: [UInt16] {
        (0..<8).map { index in
            let word = index < 4 ? high : low
            return UInt16(truncatingIfNeeded: word >> UInt64(48 - (index % 4) * 16))
        }
    }

    public var isUnspecified: Bool { high == 0 && low == 0 }
    public var isLoopback: Bool { high == 0 && low == 1 }
    public var isMulticast: Bool { high >> 56 == 0xFF }
    public var isLinkLocal: Bool { high >> 54 == 0x3FA }
    public var isIPv4Mapped: Bool { high == 0 && low >> 32 == 0xFFFF }

    public static func < (lhs: IPv6Address, rhs: IPv6Address) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }

    private static func parseGroups(_ text: [UInt8]) -> [UInt16]? {
        guard text.count >= 2, text.count <= 45 else { return nil }
        let colon = UInt8(ascii: ":")
        // Locate a single "::"; a second one would make the address ambiguous.
        var gap: Int?
        var index = 0
        while index + 1 < text.count {
            if text[index] == colon && text[index + 1] == colon {
                guard gap == nil else { return nil }
                gap = index
                index += 2
            } else {
                index += 1
            }
        }
        guard let gap else {
            guard let groups = parseSide(text[...]), groups.count == 8 else { return nil }
            return groups
        }
        guard let head = parseSide(text[..<gap]), let tail = parseSide(text[(gap + 2)...]),
            head.count + tail.count <= 7
        else { return nil }
        return head + [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
    }

    /// Parses colon-separated hex groups, the last of which may be a dotted IPv4 address.
    private static func parseSide(_ side: ArraySlice<UInt8>) -> [UInt16]? {
        if side.isEmpty { return [] }
        let pieces = side.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
        var groups: [UInt16] = []
        for (position, piece) in pieces.enumerated() {
            if position == pieces.count - 1 && piece.contains(UInt8(ascii: ".")) {
                guard let v4 = IPv4Address(utf8: Substring(decoding: piece, as: UTF8.self).utf8) else {
                    return nil
                }
                groups.append(UInt16(truncatingIfNeeded: v4.value >> 16))
                groups.append(UInt16(truncatingIfNeeded: v4.value))
                continue
            }
            guard (1...4).contains(piece.count) else { return nil }
            var value: UInt16 = 0
            for char in piece {
                guard let digit = hexValue(char) else { return nil }
                value = value << 4 | UInt16(digit)
            }
            groups.append(value)
        }
        return groups
    }

    private static func hexValue(_ char: UInt8) -> UInt8? {
        switch char {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return char - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return char - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return char - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

extension IPv6Address: CustomStringConvertible {
    public var description: String {
        if isIPv4Mapped {
            return "::ffff:" + IPv4Address(UInt32(truncatingIfNeeded: low)).description
        }
        let groups = self.groups
        // Find the longest run of zero groups (first one on a tie); RFC 5952 §4.2.2 forbids
        // compressing a single zero group.
        var bestStart = -1
        var bestLength = 1
        var runStart = -1
        for index in 0...8 {
            if index < 8 && groups[index] == 0 {
                if runStart < 0 { runStart = index }
            } else if runStart >= 0 {
                if index - runStart > bestLength {
                    bestStart = runStart
                    bestLength = index - runStart
                }
                runStart = -1
            }
        }
        func hex(_ range: Range<Int>) -> String {
            groups[range].map { String($0, radix: 16) }.joined(separator: ":")
        }
        guard bestStart >= 0 else { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }
}
