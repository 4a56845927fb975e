/// A set of ports from 1 to 65535, kept as sorted ranges that neither overlap nor touch, so
/// one set has one form (and one encoding), whatever ranges it was made from.
public struct PortSet: Hashable, Sendable, CustomStringConvertible {
    public static let none = PortSet(normalized: [])
    public static let all = PortSet(normalized: [1...65535])

    public let ranges: [ClosedRange<UInt16>]

    /// Port 0 is nobody's port: it is dropped.
    public init(_ ranges: some Sequence<ClosedRange<UInt16>>) {
        let sorted = ranges.compactMap { range -> ClosedRange<UInt16>? in
            range.upperBound == 0 ? nil : max(range.lowerBound, 1)...range.upperBound
        }.sorted { $0.lowerBound < $1.lowerBound }
        var merged: [ClosedRange<UInt16>] = []
        for range in sorted {
            if let last = merged.last, Int(range.lowerBound) <= Int(last.upperBound) + 1 {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        self.ranges = merged
    }

    private init(normalized: [ClosedRange<UInt16>]) { self.ranges = normalized }

    public var isEmpty: Bool { ranges.isEmpty }
    public var isAll: Bool { self == .all }

    public func contains(_ port: UInt16) -> Bool { ranges.contains { $0.contains(port) } }

    public func union(_ other: PortSet) -> PortSet { PortSet(ranges + other.ranges) }

    /// `22,443,8000-8100`, as the text format writes them.
    public var description: String {
        ranges.map { $0.lowerBound == $0.upperBound ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }
            .joined(separator: ",")
    }
}

/// What a source may open towards a destination: what one rule allows, or what several allow
/// together (`union`). Replies to an allowed flow are not listed: they are the flow's own
/// (conntrack), in either direction.
///
/// `anyProtocol` is more than ICMP, TCP and UDP on every port: it is every IP protocol (GRE,
/// ESP, SCTP...), what a rule without protocols allows. A value is normalised (with
/// `anyProtocol` the three are full too), so equal traffic compares equal.
public struct AccessTraffic: Hashable, Sendable, CustomStringConvertible {
    public static let nothing = AccessTraffic()
    public static let everything = AccessTraffic(anyProtocol: true)

    public let anyProtocol: Bool
    public let icmp: Bool
    public let tcp: PortSet
    public let udp: PortSet

    public init(icmp: Bool = false, tcp: PortSet = .none, udp: PortSet = .none) {
        self.init(anyProtocol: false, icmp: icmp, tcp: tcp, udp: udp)
    }

    private init(anyProtocol: Bool, icmp: Bool = false, tcp: PortSet = .none, udp: PortSet = .none) {
        self.anyProtocol = anyProtocol
        self.icmp = anyProtocol || icmp
        self.tcp = anyProtocol ? .all : tcp
        self.udp = anyProtocol ? .all : udp
    }

    public var isEmpty: Bool { !anyProtocol && !icmp && tcp.isEmpty && udp.isEmpty }

    /// The ports of `proto` (`all` for ICMP when it is allowed: it has no ports).
    public func ports(of proto: AccessProtocol) -> PortSet {
        switch proto {
        case .icmp: icmp ? .all : .none
        case .tcp: tcp
        case .udp: udp
        }
    }

    /// Whether a flow of `proto` to `port` may be opened. A nil protocol asks whether anything
    /// may; a nil port whether some port of the protocol may.
    public func admits(_ proto: AccessProtocol?, port: UInt16?) -> Bool {
        guard let proto else { return !isEmpty }
        let ports = ports(of: proto)
        guard proto.hasPorts, let port else { return !ports.isEmpty }
        return ports.contains(port)
    }

    public func union(_ other: AccessTraffic) -> AccessTraffic {
        AccessTraffic(
            anyProtocol: anyProtocol || other.anyProtocol, icmp: icmp || other.icmp, tcp: tcp.union(other.tcp),
            udp: udp.union(other.udp))
    }

    /// How many port ranges a rule spends on this (a protocol on every port spends none).
    var portRangeCount: Int {
        anyProtocol ? 0 : (tcp.isAll ? 0 : tcp.ranges.count) + (udp.isAll ? 0 : udp.ranges.count)
    }

    /// As the text format writes it after a rule's destination: `tcp/22,443 udp icmp`; empty
    /// for every protocol, "nothing" for no traffic at all.
    public var description: String {
        if anyProtocol { return "" }
        if isEmpty { return "nothing" }
        var parts: [String] = []
        for (proto, ports) in [(AccessProtocol.tcp, tcp), (.udp, udp)] where !ports.isEmpty {
            parts.append(ports.isAll ? "\(proto)" : "\(proto)/\(ports)")
        }
        if icmp { parts.append("icmp") }
        return parts.joined(separator: " ")
    }
}
