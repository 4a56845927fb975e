/// Which IPv4 network a new mesh uses when its creator names none.
///
/// The default is one of the 64 /16s of 100.64.0.0/10 (RFC 6598 shared address space: not
/// routed on the internet, and rarely used inside a LAN). Carrier-grade NAT and tailscale use
/// the same block, so the choice skips every /16 that overlaps what the host already has (its
/// addresses and routes, and the IPv4 networks of its other meshes). It starts at a hash of the
/// mesh id, so two meshes made on different machines rarely pick the same one, and a host that
/// is in both sees the overlap at `join` (`overlaps`).
public enum IPv4PrefixChoice {
    /// A network the host already uses, and how an operator would recognise it.
    public struct InUse: Hashable, Sendable, CustomStringConvertible {
        public var prefix: IPPrefix
        /// "address 10.0.0.2/24 on eth0", "route 100.64.0.0/10 dev tailscale0", "mesh lab".
        public var what: String

        public init(prefix: IPPrefix, what: String) {
            self.prefix = prefix
            self.what = what
        }

        public var description: String { what }
    }

    public static let sharedSpace = IPPrefix(address: .v4(IPv4Address(100, 64, 0, 0)), length: 10)!
    public static let defaultLength = 16
    static let domain: [UInt8] = Array("smegmesh/v1/ipv4-default-prefix".utf8) + [0]

    /// The /16s in the order `defaultPrefix` tries them for `mesh`: from
    /// `(first byte of BLAKE2b-256(domain ‖ mesh id)) mod 64` upwards, wrapping.
    public static func candidates(for mesh: MeshID) -> [IPPrefix] {
        let start = Int(Sodium.blake2b([domain, mesh.bytes], outputLength: 32)[0]) % 64
        return (0..<64).map { step in
            let index = UInt8((start + step) % 64)
            return IPPrefix(address: .v4(IPv4Address(100, 64 + index, 0, 0)), length: defaultLength)!
        }
    }

    /// The first candidate that overlaps nothing in `inUse`; nil when all 64 do.
    public static func defaultPrefix(for mesh: MeshID, avoiding inUse: [InUse]) -> IPPrefix? {
        candidates(for: mesh).first { overlaps($0, inUse).isEmpty }
    }

    /// The prefixes of `inUse` that overlap `prefix` (one covers the other). Default routes
    /// are left out: every prefix is inside 0.0.0.0/0, and the mesh's more specific routes win.
    public static func overlaps(_ prefix: IPPrefix, _ inUse: [InUse]) -> [InUse] {
        inUse.filter { used in
            guard case .v4 = used.prefix.address, !used.prefix.isDefaultRoute else { return false }
            return used.prefix.overlaps(prefix)
        }
    }
}
