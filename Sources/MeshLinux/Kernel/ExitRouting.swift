import MeshCore
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// Where a mesh's routes go in the kernel, and the policy rules that default routes need.
///
/// Specific prefixes go into the main table. A default route (an exit node's `::/0`) goes into
/// the mesh's own table instead, with two rules per family, as wg-quick sets them up:
///
/// 1. `lookup main suppress_prefixlength 0`: every main-table route except the default wins,
///    so the LAN, the mesh and the underlay networks stay where they are;
/// 2. `not fwmark M lookup <table>`: everything else goes into the tunnel, except packets
///    marked M — WireGuard's own encrypted packets and smegd's gossip — which would otherwise
///    be routed into the tunnel they carry.
public struct ExitRouting {
    /// The mark on every mesh interface that has an exit, and on the gossip socket. One value
    /// for all meshes, so gossip never follows any mesh's default route.
    public static let firewallMark: UInt32 = PacketFilter.bypassMark

    let table: UInt32
    let routes: [RouteEntry]
    /// Address families (AF_INET6, AF_INET) that have a default route through the mesh.
    let families: [Int32]

    init(table: UInt32, routes: [RouteEntry]) {
        self.table = table
        var placed: [RouteEntry] = []
        var families: [Int32] = []
        for var route in routes {
            if route.destination.prefixLength == 0 {
                route.table = table
                families.append(route.destination.family)
            }
            placed.append(route)
        }
        self.routes = placed
        self.families = families
    }

    /// Rule priorities of this table: below the kernel's `main` rule (32766), two per mesh.
    var priorities: (suppress: UInt32, tunnel: UInt32) {
        let base = 30_000 + 2 * (table % 1000)
        return (base, base + 1)
    }

    func desiredRules(family: Int32) -> [RoutingRule] {
        guard families.contains(family) else { return [] }
        return [
            RoutingRule(
                family: family, priority: priorities.suppress, table: RouteEntry.mainTable, suppressPrefixLength: 0),
            RoutingRule(
                family: family, priority: priorities.tunnel, table: table, fwmark: Self.firewallMark, invert: true),
        ]
    }

    /// wg-quick's `net.ipv4.conf.all.src_valid_mark=1` for a full IPv4 tunnel: the kernel's
    /// check of an incoming packet's source then looks the source up with the packet's mark, as
    /// the rules above route it. Set once, when an IPv4 default route first goes through a mesh,
    /// and never reset (wg-quick does not either: something else may rely on it).
    static func ensureSourceValidMark(log: LogSink) {
        let path = "/proc/sys/net/ipv4/conf/all/src_valid_mark"
        let first = sourceValidMarkChecked.withLock { checked in
            let first = !checked
            checked = true
            return first
        }
        guard first else { return }
        if (try? String(contentsOfFile: path, encoding: .utf8))?.hasPrefix("1") == true { return }
        if (try? "1\n".write(toFile: path, atomically: false, encoding: .utf8)) != nil {
            log(.notice, "set net.ipv4.conf.all.src_valid_mark=1: an IPv4 default route goes through the mesh")
        } else {
            log(.error, "cannot set \(path) to 1; IPv4 packets through the mesh's exit may be dropped")
        }
    }

    private static let sourceValidMarkChecked = Mutex(false)

    /// Adds the rules the default routes need and removes this table's rules that are no
    /// longer needed (an exit died, the node left).
    func reconcileRules(on socket: NetlinkSocket) throws {
        for family in [AF_INET6, AF_INET] {
            let desired = desiredRules(family: family)
            let current = try socket.dumpRules(family: family).filter {
                $0.priority == priorities.suppress || $0.priority == priorities.tunnel
            }
            for rule in current where !desired.contains(rule) { try socket.removeRule(rule) }
            for rule in desired where !current.contains(rule) { try socket.addRule(rule) }
        }
    }
}
