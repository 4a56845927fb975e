/// Which advertised routes a node accepts from other members.
///
/// The default accepts only prefixes inside the mesh's own RFC 4193 /48, and never one that
/// overlaps the members' /64: a more specific route there would let a member capture another
/// member's overlay address. Everything else (a LAN, another mesh, a default route) needs the
/// operator to say so, which is what stops a member from hijacking 8.8.8.8/32 or ::/0.
/// Configure the same policy on every node, or members will disagree about which records are valid.
public struct RoutePolicy: Hashable, Sendable {
    /// Accept `0.0.0.0/0` and `::/0` (exit nodes).
    public var allowExitNodes: Bool
    /// Accept a bridged mesh's prefix when it lies inside the /48 derived from the route's origin
    /// mesh (the first mesh id in its path), which a receiver can check for itself.
    public var allowBridgedMeshes: Bool
    /// Further prefixes the operator trusts members to advertise, and anything inside them.
    public var allowedPrefixes: [IPPrefix]

    public init(allowExitNodes: Bool = false, allowBridgedMeshes: Bool = false, allowedPrefixes: [IPPrefix] = []) {
        self.allowExitNodes = allowExitNodes
        self.allowBridgedMeshes = allowBridgedMeshes
        self.allowedPrefixes = allowedPrefixes
    }

    public static let `default` = RoutePolicy()

    /// Nil when `route` is acceptable in `mesh`, else the reason it is not.
    public func violation(of route: AdvertisedRoute, in mesh: MeshID) -> String? {
        if route.path.contains(mesh) { return "route \(route) loops back into this mesh" }
        if Set(route.path).count != route.path.count { return "route \(route) repeats a mesh in its path" }
        if route.prefix.isDefaultRoute {
            return allowExitNodes ? nil : "default route \(route.prefix) needs exit nodes to be allowed"
        }
        let memberPrefix = OverlayAddress.meshPrefix(of: mesh)
        if route.prefix.overlaps(memberPrefix) {
            return "route \(route.prefix) overlaps the members' addresses \(memberPrefix)"
        }
        if route.path.isEmpty && OverlayAddress.meshSitePrefix(of: mesh).covers(route.prefix) { return nil }
        if allowBridgedMeshes, let origin = route.path.first,
            OverlayAddress.meshSitePrefix(of: origin).covers(route.prefix)
        {
            return nil
        }
        if allowedPrefixes.contains(where: { $0.covers(route.prefix) }) { return nil }
        return "route \(route.prefix) is outside the mesh's prefixes and the configured route policy"
    }
}

extension RoutePolicy {
    /// `violation(of:in:)`, and also a route overlapping the mesh's IPv4 network, which could
    /// capture members' IPv4 addresses the way a route inside the /64 could capture IPv6 ones.
    /// The topology ignores such routes in records merged before (`MeshTopology`).
    public func violation(of route: AdvertisedRoute, in mesh: MeshID, ipv4Prefix: IPPrefix?) -> String? {
        if let reason = violation(of: route, in: mesh) { return reason }
        if let ipv4Prefix, !route.prefix.isDefaultRoute, route.prefix.overlaps(ipv4Prefix) {
            return "route \(route.prefix) overlaps the members' IPv4 addresses \(ipv4Prefix)"
        }
        return nil
    }
}
