import MeshCore

#if canImport(Glibc)
    import Glibc
#endif

/// The addresses a peer advertises when the operator gave no public endpoint: every global
/// address on this host's interfaces, excluding loopback, link-local and mesh interfaces, and
/// anything receivers' strict `EndpointPolicy` refuses (a record with one such endpoint would be
/// refused whole, and the node would vanish from the mesh).
///
/// On a LAN or a VPS with a public address that is exactly right; behind NAT the operator sets
/// `--endpoint` (or the node is a client).
enum HostAddresses {
    static let maximum = 4

    static func endpoints(port: UInt16) -> [Endpoint] {
        guard let socket = try? NetlinkSocket.route(), let links = try? socket.dumpLinks(),
            let addresses = try? socket.dumpAddresses()
        else { return [] }
        let skipped = Set(
            links.filter { $0.name == "lo" || $0.name.hasPrefix(InterfaceName.prefix) || $0.kind == "wireguard" }
                .map(\.index))
        var result: [Endpoint] = []
        for entry in addresses.sorted(by: {
            ($0.prefix.address.count, $0.linkIndex) < ($1.prefix.address.count, $1.linkIndex)
        })
        where !skipped.contains(entry.linkIndex) {
            guard let host = host(entry.prefix.address), let endpoint = Endpoint(host: host, port: port),
                EndpointPolicy.strict.refusal(of: endpoint, overlay: nil) == nil
            else {
                continue
            }
            result.append(endpoint)
            if result.count == maximum { break }
        }
        return result
    }

    /// Control-plane-only daemons on one machine reach each other on loopback.
    static func loopbackEndpoint(port: UInt16) -> [Endpoint] { Endpoint.loopback(port: port) }

    private static func host(_ bytes: [UInt8]) -> Endpoint.Host? {
        if bytes.count == 4, let address = IPv4Address(bytes: bytes), !address.isLoopback, !address.isUnspecified,
            !(bytes[0] == 169 && bytes[1] == 254)
        {
            return .ipv4(address)
        }
        if bytes.count == 16, let address = IPv6Address(bytes: bytes), !address.isLoopback, !address.isLinkLocal,
            !address.isUnspecified, !address.isIPv4Mapped
        {
            return .ipv6(address)
        }
        return nil
    }
}

/// The IPv4 networks this host already uses, which a mesh's IPv4 prefix must not overlap: the
/// subnets of its addresses and its main-table routes, loopback left out. Read once at
/// `create` and `join`, so a failure to read them is reported rather than taken as "none".
public enum HostIPv4Networks {
    public static func inUse() throws -> [IPv4PrefixChoice.InUse] {
        let socket = try NetlinkSocket.route()
        let names = Dictionary(try socket.dumpLinks().map { ($0.index, $0.name) }, uniquingKeysWith: { a, _ in a })
        var result: [IPv4PrefixChoice.InUse] = []
        for entry in try socket.dumpAddresses() where entry.prefix.address.count == 4 {
            let name = names[entry.linkIndex] ?? "link \(entry.linkIndex)"
            guard name != "lo", let address = IPv4Address(bytes: entry.prefix.address),
                let prefix = IPPrefix(containing: .v4(address), length: Int(entry.prefix.prefixLength))
            else { continue }
            result.append(.init(prefix: prefix, what: "address \(entry.prefix) on \(name)"))
        }
        for route in try socket.dumpRoutes(family: AF_INET) where route.table == RouteEntry.mainTable {
            // A connected route repeats an address's subnet: name the address alone.
            guard let address = IPv4Address(bytes: route.destination.address),
                let prefix = IPPrefix(address: .v4(address), length: Int(route.destination.prefixLength)),
                !prefix.isDefaultRoute, !address.isLoopback, !result.contains(where: { $0.prefix == prefix })
            else { continue }
            let device = route.linkIndex.flatMap { names[$0] }.map { " dev \($0)" } ?? ""
            result.append(.init(prefix: prefix, what: "route \(prefix)\(device)"))
        }
        return result
    }
}
