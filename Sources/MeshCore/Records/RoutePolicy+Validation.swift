extension RoutePolicy {
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
