import MeshCore

#if canImport(Glibc)
    import Glibc
#endif

/// Desired addresses and routes of one link versus what rtnetlink dumped.
///
/// Only state we own is ever removed: IPv6 link-local addresses belong to the kernel, and routes
/// are ours only when they carry `RouteEntry.meshProtocol` — connected routes, DHCP routes and
/// the operator's own are left alone.
public enum LinkStateReconciler {
    public struct AddressPlan: Equatable, Sendable {
        public var add: [IPNet] = []
        public var remove: [IPNet] = []
        public var isEmpty: Bool { add.isEmpty && remove.isEmpty }
    }

    public struct RoutePlan: Equatable, Sendable {
        public var replace: [RouteEntry] = []
        public var remove: [RouteEntry] = []
        public var isEmpty: Bool { replace.isEmpty && remove.isEmpty }
    }

    /// `current` are the addresses of the link. An address whose no-prefix-route flag differs
    /// from `options` is re-added (a replace updates the flag in place).
    public static func addressPlan(
        current: [InterfaceAddress], desired: [IPNet], options: AddressOptions
    ) -> AddressPlan {
        var plan = AddressPlan()
        var have: [IPNet: InterfaceAddress] = [:]
        for address in current where !address.prefix.isLinkLocal { have[address.prefix] = address }
        var seen = Set<IPNet>()
        for prefix in desired where seen.insert(prefix).inserted {
            guard let existing = have[prefix] else {
                plan.add.append(prefix)
                continue
            }
            if prefix.isIPv6 && existing.hasNoPrefixRoute != options.noPrefixRoute { plan.add.append(prefix) }
        }
        plan.remove = have.keys.filter { !seen.contains($0) }.sorted()
        return plan
    }

    /// Routes are matched on (destination, table, metric), the kernel's own identity for them.
    public static func routePlan(current: [RouteEntry], desired: [RouteEntry]) -> RoutePlan {
        struct Key: Hashable {
            var destination: IPNet
            var table: UInt32
            var metric: UInt32?
        }
        // The kernel fills in a metric we leave out (1024 for IPv6, 0 for IPv4); compare with that.
        func key(_ route: RouteEntry) -> Key {
            Key(
                destination: route.destination, table: route.table,
                metric: route.metric ?? (route.destination.isIPv6 ? 1024 : 0))
        }
        var have: [Key: RouteEntry] = [:]
        for route in current where route.proto == RouteEntry.meshProtocol { have[key(route)] = route }
        var plan = RoutePlan()
        var wanted = Set<Key>()
        for route in desired where wanted.insert(key(route)).inserted {
            var normalised = route
            normalised.proto = RouteEntry.meshProtocol
            if let existing = have[key(route)], existing.gateway == route.gateway, existing.linkIndex == route.linkIndex
            {
                continue
            }
            plan.replace.append(normalised)
        }
        plan.remove = have.filter { !wanted.contains($0.key) }.map(\.value).sorted {
            $0.destination < $1.destination
        }
        return plan
    }
}

extension NetlinkSocket {
    /// Brings the addresses of `link` to `desired`; returns what it changed.
    @discardableResult
    public func reconcileAddresses(
        link: String, desired: [IPNet], options: AddressOptions
    ) throws
        -> LinkStateReconciler.AddressPlan
    {
        let plan = LinkStateReconciler.addressPlan(
            current: try dumpAddresses(link: link), desired: desired, options: options)
        for prefix in plan.remove { try removeAddress(prefix, link: link) }
        for prefix in plan.add { try addAddress(prefix, link: link, options: options) }
        return plan
    }

    /// Brings the mesh-owned routes via `link` to `desired` (destinations routed out of `link`).
    @discardableResult
    public func reconcileRoutes(link: String, desired: [RouteEntry]) throws -> LinkStateReconciler.RoutePlan {
        let index = try requireLinkIndex(link, operation: "reconcile routes of \(link)")
        var current: [RouteEntry] = []
        for family in [AF_INET6, AF_INET] { current += try dumpRoutes(family: family, link: link) }
        let targets = desired.map { route -> RouteEntry in
            var copy = route
            copy.linkIndex = index
            return copy
        }
        let plan = LinkStateReconciler.routePlan(current: current, desired: targets)
        for route in plan.remove { try removeRoute(route) }
        for route in plan.replace { try replaceRoute(route) }
        return plan
    }
}
