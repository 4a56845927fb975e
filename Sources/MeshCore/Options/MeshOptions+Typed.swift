/// `MeshOptions` as the daemon uses them: the JSON and disk edges keep strings and optional
/// numbers (the documented API), and everything inside reads these typed values, each with its
/// one default, instead of comparing `role == "client"` or writing `?? 51820` again.
extension MeshOptions {
    /// The WireGuard port of a node that chose none.
    public static let defaultListenPort: UInt16 = 51820

    /// The role named by `text`, "peer" or "client"; nil for anything else.
    public static func role(named text: String) -> NodeRecord.Role? {
        NodeRecord.Role.allCases.first { $0.description == text }
    }

    /// The first thing wrong with these options on their own, or nil: the one check both smegd
    /// (before it writes anything) and smegctl (before it sends, naming its flag) make. What
    /// depends on the mesh (its route policy, the record's size) smegd checks on top.
    public var problem: MeshOptionProblem? {
        if let role, Self.role(named: role) == nil { return .init(.role, "must be peer or client, not '\(role)'") }
        if let listenPort, !(1...65535).contains(listenPort) {
            return .init(.listenPort, "must be between 1 and 65535")
        }
        if let keepalive, !(0...65535).contains(keepalive) {
            return .init(.keepalive, "must be between 0 and 65535 seconds")
        }
        if let endpoint, Endpoint(endpoint) == nil {
            return .init(.endpoint, "'\(endpoint)' is not HOST:PORT (IPv6 as [ADDRESS]:PORT)")
        }
        for route in advertiseRoutes ?? [] where IPPrefix(route) == nil {
            return .init(.advertiseRoutes, "'\(route)' is not a prefix such as fd00:1::/64")
        }
        return nil
    }

    /// `problem` as the API words it ("listenPort must be between 1 and 65535").
    public var invalidReason: String? { problem?.description }

    /// The role, peer unless "client" was chosen. Options are validated before they are stored,
    /// so an unknown name only reaches here from a hand-edited file: it counts as a peer.
    public var resolvedRole: NodeRecord.Role { role.flatMap(Self.role(named:)) ?? .peer }

    /// The WireGuard listen port, `defaultListenPort` unless one was chosen (validated, so it
    /// fits; a hand-edited value out of range falls back to the default instead of trapping, as
    /// `UInt16(options.listenPort ?? 51820)` once did).
    public var resolvedListenPort: UInt16 {
        guard let listenPort, (1...65535).contains(listenPort) else { return Self.defaultListenPort }
        return UInt16(listenPort)
    }

    /// The routes a node publishes for these options: its own prefixes (those that parse), then
    /// `::/0` and `0.0.0.0/0` for an exit (each family once: one may also be given as a prefix).
    /// In a mesh without IPv4 addresses every member ignores the `0.0.0.0/0` (`MeshTopology`).
    public var advertisedRoutes: [AdvertisedRoute] {
        var routes = (advertiseRoutes ?? []).compactMap { IPPrefix($0).map { AdvertisedRoute(prefix: $0) } }
        if advertiseDefaultRoute == true {
            for prefix in [IPPrefix.ipv6Default, .ipv4Default] where !routes.contains(where: { $0.prefix == prefix }) {
                routes.append(AdvertisedRoute(prefix: prefix))
            }
        }
        return routes
    }

    /// The persistent keepalive in seconds, when one was chosen.
    public var resolvedKeepalive: UInt16? { keepalive.map { UInt16(clamping: $0) } }
}

/// What is wrong with one field of `MeshOptions`, worded to follow the field's name: the API's
/// key in smegd's answers, the command-line flag in smegctl's.
public struct MeshOptionProblem: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Field: String, Sendable, CaseIterable {
        case role, listenPort, keepalive, endpoint, advertiseRoutes

        /// How the API's answers name the field.
        public var wording: String { self == .advertiseRoutes ? "advertised route" : rawValue }

        /// The smegctl flag that sets it.
        public var flag: String {
            switch self {
            case .role: "--role"
            case .listenPort: "--listen-port"
            case .keepalive: "--keepalive"
            case .endpoint: "--endpoint"
            case .advertiseRoutes: "--advertise-route"
            }
        }
    }

    public var field: Field
    public var reason: String

    public init(_ field: Field, _ reason: String) {
        self.field = field
        self.reason = reason
    }

    public var description: String { "\(field.wording) \(reason)" }

    /// The same, naming the command-line flag.
    public var flagDescription: String { "\(field.flag) \(reason)" }
}
