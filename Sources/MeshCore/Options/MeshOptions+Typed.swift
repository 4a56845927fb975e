/// `MeshOptions` as the daemon uses them: the JSON and disk edges keep strings and optional
/// numbers (the documented API), and everything inside reads these typed values, each with its
/// one default, instead of comparing `role == "client"` or writing `?? 51820` again.
extension MeshOptions {
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
