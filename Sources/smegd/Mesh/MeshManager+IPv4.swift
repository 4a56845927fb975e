import MeshCore
import MeshLinux

/// The IPv4 network of a mesh this node creates or joins: it must not overlap what the host
/// already routes (its LANs, a VPN, carrier NAT) or another mesh here, or the kernel would send
/// one of them into the wrong place.
extension MeshManager {
    /// The networks in use here: the host's (none in control-plane-only mode, which programs
    /// no interface) and the other meshes'.
    func ipv4NetworksInUse() throws -> [IPv4PrefixChoice.InUse] {
        var inUse: [IPv4PrefixChoice.InUse] = []
        if !config.controlPlaneOnly {
            do {
                inUse = try HostIPv4Networks.inUse()
            } catch {
                throw ControlError.unavailable("cannot read this host's IPv4 addresses and routes: \(error)")
            }
        }
        for runtime in directory.all {
            if let prefix = runtime.ipv4Prefix { inUse.append(.init(prefix: prefix, what: "mesh \(runtime.mesh)")) }
        }
        return inUse
    }

    /// `requested` is what `create --ipv4-prefix` gave: nil for the default, "none" for none.
    func ipv4Prefix(for mesh: MeshID, requested: String?) throws -> IPPrefix? {
        let inUse = try ipv4NetworksInUse()
        guard let requested else {
            guard let chosen = IPv4PrefixChoice.defaultPrefix(for: mesh, avoiding: inUse) else {
                throw ControlError.conflict(
                    "every /16 of \(IPv4PrefixChoice.sharedSpace) overlaps a network this host uses ("
                        + IPv4PrefixChoice.overlaps(IPv4PrefixChoice.sharedSpace, inUse).prefix(3).map(\.what)
                        .joined(separator: ", ")
                        + "); give the mesh one with --ipv4-prefix (for example 10.99.0.0/16), "
                        + "or --ipv4-prefix none for IPv6 addresses only")
            }
            return chosen
        }
        if requested == "none" { return nil }
        guard let prefix = IPPrefix(requested), MeshCharter.isValidIPv4Prefix(prefix) else {
            throw ControlError.badRequest(
                "--ipv4-prefix \(requested) is not an IPv4 network from /8 to /28 written as ADDRESS/LENGTH "
                    + "with no host bits set (for example 100.80.0.0/16), nor \"none\"")
        }
        try checkIPv4Prefix(prefix, inUse: inUse, fix: "pick another with --ipv4-prefix, or --ipv4-prefix none")
        return prefix
    }

    /// Refuses a mesh network that overlaps one in use, naming what it overlaps and `fix`.
    func checkIPv4Prefix(_ prefix: IPPrefix, inUse: [IPv4PrefixChoice.InUse]? = nil, fix: String) throws {
        let overlapping = IPv4PrefixChoice.overlaps(prefix, try inUse ?? ipv4NetworksInUse())
        guard !overlapping.isEmpty else { return }
        throw ControlError.conflict(
            "the mesh's IPv4 network \(prefix) overlaps "
                + overlapping.prefix(3).map(\.what).joined(separator: ", ") + " on this host; \(fix)")
    }
}
