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

    /// Why these options cannot be used, or nil: smegd's check before it writes anything.
    /// (`smegctl` checks the same ranges before sending, in words that name its flags.)
    public var invalidReason: String? {
        if let role, Self.role(named: role) == nil { return "role must be peer or client, not '\(role)'" }
        if let listenPort, !(1...65535).contains(listenPort) { return "listenPort must be between 1 and 65535" }
        if let keepalive, !(0...65535).contains(keepalive) { return "keepalive must be between 0 and 65535 seconds" }
        return nil
    }

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

    /// The persistent keepalive in seconds, when one was chosen.
    public var resolvedKeepalive: UInt16? { keepalive.map { UInt16(clamping: $0) } }
}
