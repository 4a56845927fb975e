/// Where a node can be reached from outside the overlay: an address or DNS name and a UDP port.
///
/// Text form is `1.2.3.4:51820`, `[2001:db8::1]:51820` or `vpn.example.com:51820`. IPv6 must be
/// bracketed: without brackets `2001:db8::1:51820` is itself a valid address, so the port could
/// not be told apart.
public struct Endpoint: Hashable, Sendable {
    public enum Host: Hashable, Sendable {
        case ipv4(IPv4Address)
        case ipv6(IPv6Address)
        /// A lowercase DNS name (see `DNSName`). Accepted in invite tokens, where an operator may
        /// name a server with a dynamic address; node records carry addresses only.
        case name(String)
    }

    public let host: Host
    public let port: UInt16

    /// Returns nil for port 0 or an invalid DNS name.
    public init?(host: Host, port: UInt16) {
        guard port != 0 else { return nil }
        if case .name(let name) = host, !DNSName.isValid(name) { return nil }
        self.host = host
        self.port = port
    }

    public init?(_ text: String) {
        let utf8 = Array(text.utf8)
        guard utf8.count <= 300 else { return nil }
        let hostText: String
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let afterClose = text[text.index(after: close)...]
            guard afterClose.hasPrefix(":") else { return nil }
            hostText = String(text[text.index(after: text.startIndex)..<close])
            portText = afterClose.dropFirst()
            guard let v6 = IPv6Address(hostText), let port = Self.parsePort(portText) else { return nil }
            self.init(host: .ipv6(v6), port: port)
            return
        }
        let pieces = text.split(separator: ":", omittingEmptySubsequences: false)
        guard pieces.count == 2, let port = Self.parsePort(pieces[1]) else { return nil }
        hostText = String(pieces[0])
        if let v4 = IPv4Address(hostText) {
            self.init(host: .ipv4(v4), port: port)
        } else {
            let lowered = hostText.lowercased()
            // A name made only of digits and dots would be read as an address by some resolvers.
            guard DNSName.isValid(lowered) else { return nil }
            self.init(host: .name(lowered), port: port)
        }
    }

    /// True when the host is a literal address, which is all WireGuard itself accepts.
    public var isAddress: Bool {
        if case .name = host { return false }
        return true
    }

    private static func parsePort(_ text: Substring) -> UInt16? {
        guard (1...5).contains(text.utf8.count), text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
            !text.hasPrefix("0"), let value = UInt16(text)
        else { return nil }
        return value
    }
}

extension Endpoint: CustomStringConvertible {
    public var description: String {
        switch host {
        case .ipv4(let address): return "\(address):\(port)"
        case .ipv6(let address): return "[\(address)]:\(port)"
        case .name(let name): return "\(name):\(port)"
        }
    }
}

/// Host names as RFC 1123 allows them, restricted to lowercase so that each name has one form.
public enum DNSName {
    public static let maxLength = 253
    public static let maxLabelLength = 63

    public static func isValid(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= maxLength else { return false }
        let labels = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard labels.allSatisfy(isValidLabel) else { return false }
        // A final label of digits only would make "10.0.0.1" a name; RFC 3696 §2 forbids it.
        return !labels.last!.allSatisfy { $0 >= 48 && $0 <= 57 }
    }

    /// One label: 1...63 of `a-z`, `0-9` and `-`, not starting or ending with `-`.
    public static func isValidLabel<C: Collection>(_ label: C) -> Bool where C.Element == UInt8 {
        guard !label.isEmpty, label.count <= maxLabelLength, label.first != UInt8(ascii: "-"),
            label.reversed().first != UInt8(ascii: "-")
        else { return false }
        return label.allSatisfy { char in
            (char >= UInt8(ascii: "a") && char <= UInt8(ascii: "z"))
                || (char >= UInt8(ascii: "0") && char <= UInt8(ascii: "9")) || char == UInt8(ascii: "-")
        }
    }
}

extension Endpoint {
    /// 127.0.0.1 at `port`: where daemons that share one machine reach each other.
    public static func loopback(port: UInt16) -> [Endpoint] {
        Endpoint(host: .ipv4(IPv4Address(127, 0, 0, 1)), port: port).map { [$0] } ?? []
    }
}
