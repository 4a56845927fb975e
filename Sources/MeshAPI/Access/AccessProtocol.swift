/// The protocols a rule can limit flows to. The raw values are the IP protocol numbers, which
/// is also the order the encoding lists them in.
///
/// `icmp` is ICMP over IPv4 and ICMPv6 over IPv6 alike: operators write one rule for `ping`
/// and `ping -6`, and a mesh member has both addresses.
public enum AccessProtocol: UInt8, Hashable, Sendable, CaseIterable, Comparable, CustomStringConvertible {
    case icmp = 1
    case tcp = 6
    case udp = 17

    public init?(name: String) {
        guard let found = Self.allCases.first(where: { $0.description == name }) else { return nil }
        self = found
    }

    public var hasPorts: Bool { self != .icmp }

    public var description: String {
        switch self {
        case .icmp: "icmp"
        case .tcp: "tcp"
        case .udp: "udp"
        }
    }

    public static func < (lhs: AccessProtocol, rhs: AccessProtocol) -> Bool { lhs.rawValue < rhs.rawValue }
}
