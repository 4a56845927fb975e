#if canImport(Glibc)
    import Glibc
#endif

/// An IPv4 or IPv6 address with a prefix length ("fd00::1/64", "10.0.0.0/8").
///
/// The address keeps its host bits: an interface address needs them, and for AllowedIPs and
/// routes the kernel masks them itself. Named after Go's `net.IPNet` to stay clear of the mesh
/// addressing types elsewhere in MeshCore.
public struct IPNet: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    /// 4 bytes for IPv4, 16 for IPv6, in network order.
    public let address: [UInt8]
    public let prefixLength: UInt8

    public init?(address: [UInt8], prefixLength: UInt8) {
        guard address.count == 4 || address.count == 16, Int(prefixLength) <= address.count * 8 else { return nil }
        self.address = address
        self.prefixLength = prefixLength
    }

    /// Parses "addr/len" or a bare address (a host prefix: /32 or /128).
    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPNet.parseAddress(String(parts[0])) else { return nil }
        let length: UInt8
        if parts.count == 2 {
            guard let parsed = UInt8(parts[1]) else { return nil }
            length = parsed
        } else {
            length = UInt8(address.count * 8)
        }
        self.init(address: address, prefixLength: length)
    }

    public var isIPv6: Bool { address.count == 16 }
    public var family: Int32 { isIPv6 ? AF_INET6 : AF_INET }

    /// The address without the prefix length ("fd00::1").
    public var addressText: String { IPNet.format(address) }

    public var description: String { "\(addressText)/\(prefixLength)" }

    /// IPv6 link-local (fe80::/10): managed by the kernel, never by reconciliation.
    public var isLinkLocal: Bool { isIPv6 && address[0] == 0xfe && address[1] & 0xc0 == 0x80 }

    public static func < (lhs: IPNet, rhs: IPNet) -> Bool {
        if lhs.address.count != rhs.address.count { return lhs.address.count < rhs.address.count }
        if lhs.address != rhs.address { return lhs.address.lexicographicallyPrecedes(rhs.address) }
        return lhs.prefixLength < rhs.prefixLength
    }

    /// inet_pton for either family.
    public static func parseAddress(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { [UInt8]($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { [UInt8]($0) }
        }
        return nil
    }

    /// inet_ntop for 4- or 16-byte addresses (RFC 5952 text for IPv6).
    public static func format(_ address: [UInt8]) -> String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = address.count == 16 ? AF_INET6 : AF_INET
        let ok = address.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) }
        guard ok != nil else { return "?" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = IPNet(text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "bad prefix \(text)"))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
