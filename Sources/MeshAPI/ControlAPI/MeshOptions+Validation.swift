/// The checks of `MeshOptions` that need nothing but the options: in MeshAPI so that smegctl
/// makes them before it sends (naming its flag) without linking the mesh domain.
extension MeshOptions {
    /// The WireGuard port of a node that chose none.
    public static let defaultListenPort: UInt16 = 51820

    /// The role named by `text`, "peer" or "client"; nil for anything else.
    public static func role(named text: String) -> MemberRole? {
        MemberRole.allCases.first { $0.description == text }
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
