/// The nftables rules one mesh needs on this node, as data: what an exit does to the traffic it
/// carries between the mesh and the rest of the world.
///
/// - **Masquerade.** An IPv4 exit rewrites the source of packets from the mesh's IPv4 network
///   that leave through an interface that is not a mesh interface, so the internet can answer
///   members it has no route to. IPv6 is not masqueraded: the members' ULA addresses getting out
///   (NAT66) stays the operator's choice (docs/routing.md).
/// - **MSS clamping.** TCP SYNs forwarded into or out of the mesh interface get their maximum
///   segment size lowered to what fits the mesh's MTU, per family, so a server beyond the exit
///   never sends segments larger than the tunnel, even when ICMP "fragmentation needed" is lost
///   on the way (path MTU discovery would otherwise be the only thing left).
/// - **Replies to inbound connections stay off the tunnel.** A node whose default route goes
///   through the mesh (it uses an exit) would otherwise answer a connection that reached it from
///   outside (SSH to a VPS peer's public address) through the exit, whose address the client
///   never talked to: the reply is dropped and the server is unreachable, as behind wg-quick's
///   full tunnel. Connections that arrive through a non-mesh interface are marked in conntrack,
///   and their packets carry the mesh's firewall mark, which the exit's policy rule skips, so
///   replies leave the way the connection came.
///
/// Each mesh has a table of its own, named like its interface (`inet smegXXXXXXXX`), which the
/// rules replace as a whole in one nftables transaction: applying them is idempotent, and a
/// table left by an earlier daemon is replaced or removed at the first reconcile.
public struct PacketFilter: Equatable, Sendable {
    /// Source networks masqueraded when they leave through a non-mesh interface.
    public var masquerade: [IPPrefix] = []
    /// Families whose forwarded TCP SYNs across the mesh interface are clamped.
    public var clampIPv4 = false
    public var clampIPv6 = false
    /// Whether replies to connections from outside the mesh must bypass a default route through
    /// it: set on nodes that use an exit.
    public var keepInboundReplies = false
    /// The access policy's rules on the mesh interface; nil while no policy is in force.
    public var access: AccessFilter?

    public init(
        masquerade: [IPPrefix] = [], clampIPv4: Bool = false, clampIPv6: Bool = false, keepInboundReplies: Bool = false
    ) {
        self.masquerade = masquerade
        self.clampIPv4 = clampIPv4
        self.clampIPv6 = clampIPv6
        self.keepInboundReplies = keepInboundReplies
    }

    /// The mark the exit routing's policy rule skips (`not fwmark M lookup <table>`): the mesh
    /// interface and the gossip socket carry it too (MeshLinux `ExitRouting.firewallMark`).
    public static let bypassMark: UInt32 = 0x0053_6d67

    /// Nothing to install: the table must not exist.
    public var isEmpty: Bool {
        masquerade.isEmpty && !clampIPv4 && !clampIPv6 && !keepInboundReplies && access == nil
    }

    /// The rules of a node: an exit for `0.0.0.0/0` masquerades the mesh's IPv4 network and
    /// clamps IPv4; an exit for `::/0` clamps IPv6. `advertised` are the routes this node
    /// publishes, as the mesh's policy lets it (routes bridged from other meshes do not count);
    /// `ipv4Prefix` is the mesh's IPv4 network when this node has an address in it (an IPv4
    /// exit without one carries nothing, `MeshTopology`).
    public static func forNode(advertised: [AdvertisedRoute], ipv4Prefix: IPPrefix?) -> PacketFilter {
        var filter = PacketFilter()
        let own = advertised.filter(\.path.isEmpty).map(\.prefix)
        if let ipv4Prefix, own.contains(.ipv4Default) {
            filter.masquerade = [ipv4Prefix]
            filter.clampIPv4 = true
        }
        filter.clampIPv6 = own.contains(.ipv6Default)
        return filter
    }

    /// What the rules do, for the log and the status ("masquerade 100.64.0.0/16, clamp TCP MSS
    /// (IPv4, IPv6)"); "no rules" when empty.
    public var summary: String {
        var parts: [String] = []
        if !masquerade.isEmpty { parts.append("masquerade " + masquerade.map(\.description).joined(separator: ", ")) }
        let clamped = [clampIPv4 ? "IPv4" : nil, clampIPv6 ? "IPv6" : nil].compactMap { $0 }
        if !clamped.isEmpty { parts.append("clamp TCP MSS (\(clamped.joined(separator: ", ")))") }
        if keepInboundReplies { parts.append("replies to inbound connections bypass the exit") }
        if let access { parts.append(access.summary) }
        return parts.isEmpty ? "no rules" : parts.joined(separator: ", ")
    }

    /// Largest TCP segments that fit a packet of `mtu` bytes: minus the IPv4 (20) or IPv6 (40)
    /// header and the TCP header (20).
    public static func maximumSegment(mtu: Int, ipv6: Bool) -> Int { mtu - (ipv6 ? 60 : 40) }

    /// Interface names of every mesh: traffic between two meshes (a bridge) is not masqueraded.
    static let meshInterfaces = "\(InterfaceName.prefix)*"

    /// The `nft -f` script that brings the table of `interface` to these rules: it declares the
    /// table (a no-op when it exists), deletes it and, unless the filter is empty, defines it
    /// again. nftables applies a script as one transaction, so the rules are never half there.
    public func script(interface: String, mtu: Int) -> String {
        var lines = ["table inet \(interface)", "delete table inet \(interface)"]
        guard !isEmpty else { return lines.joined(separator: "\n") + "\n" }
        lines.append("table inet \(interface) {")
        if clampIPv4 || clampIPv6 {
            lines.append("    chain forward {")
            lines.append("        type filter hook forward priority mangle; policy accept;")
            for (enabled, family, ipv6) in [(clampIPv4, "ipv4", false), (clampIPv6, "ipv6", true)] where enabled {
                let size = Self.maximumSegment(mtu: mtu, ipv6: ipv6)
                for direction in ["iifname", "oifname"] {
                    lines.append(
                        "        \(direction) \"\(interface)\" meta nfproto \(family) tcp flags & (syn | rst) == syn "
                            + "tcp option maxseg size > \(size) counter tcp option maxseg size set \(size)")
                }
            }
            lines.append("    }")
        }
        if keepInboundReplies {
            let mark = "0x" + String(Self.bypassMark, radix: 16)
            lines.append("    chain inbound {")
            lines.append("        type filter hook prerouting priority mangle; policy accept;")
            lines.append("        iifname != \"\(Self.meshInterfaces)\" ct state new counter ct mark set \(mark)")
            lines.append("    }")
            lines.append("    chain replies {")
            lines.append("        type route hook output priority mangle; policy accept;")
            lines.append("        ct mark \(mark) counter meta mark set \(mark)")
            lines.append("    }")
        }
        if !masquerade.isEmpty {
            lines.append("    chain postrouting {")
            lines.append("        type nat hook postrouting priority srcnat; policy accept;")
            for prefix in masquerade {
                let family = prefix.address.bitCount == 32 ? "ip" : "ip6"
                lines.append(
                    "        \(family) saddr \(prefix) oifname != \"\(Self.meshInterfaces)\" counter masquerade")
            }
            lines.append("    }")
        }
        if let access { lines += access.script(interface: interface) }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }
}
