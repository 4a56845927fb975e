/// Derivation of overlay addresses and interface names. The exact algorithm and test vectors are
/// in docs/addressing.md; any change here is a protocol change and needs a new domain string.
///
/// Everything is a pure function of public values (mesh id, WireGuard key), so every receiver can
/// recompute a member's address and reject a record that claims another one.
public enum OverlayAddress {
    static let globalIDDomain: [UInt8] = Array("smegmesh/v1/ula-global-id".utf8) + [0]
    static let interfaceIDDomain: [UInt8] = Array("smegmesh/v1/interface-id".utf8) + [0]

    /// The 40-bit RFC 4193 global id of `mesh`: the first 5 bytes of
    /// BLAKE2b-256(domain ‖ mesh id text).
    public static func globalID(of mesh: MeshID) -> [UInt8] {
        Array(Sodium.blake2b([globalIDDomain, Array(mesh.text.utf8)], outputLength: 32).prefix(5))
    }

    /// `fd` ‖ global id ‖ subnet 0000: the /64 every member's address lies in.
    public static func meshPrefix(of mesh: MeshID) -> IPPrefix {
        let bytes = [0xFD] + globalID(of: mesh) + [0, 0] + [UInt8](repeating: 0, count: 8)
        return IPPrefix(address: .v6(IPv6Address(bytes: bytes)!), length: 64)!
    }

    /// The /48 RFC 4193 assigns the mesh. Routes inside it are the mesh's own.
    public static func meshSitePrefix(of mesh: MeshID) -> IPPrefix {
        let bytes = [0xFD] + globalID(of: mesh) + [UInt8](repeating: 0, count: 10)
        return IPPrefix(address: .v6(IPv6Address(bytes: bytes)!), length: 48)!
    }

    /// The member's address: the mesh /64 with the interface id of its WireGuard key.
    public static func derive(mesh: MeshID, wireGuardKey: WireGuardPublicKey) -> IPv6Address {
        guard case .v6(let prefix) = meshPrefix(of: mesh).address else { preconditionFailure() }
        return IPv6Address(high: prefix.high, low: InterfaceID(wireGuardKey: wireGuardKey).value)
    }
}

/// The low 64 bits of a member's address: the first 8 bytes of
/// BLAKE2b-256(domain ‖ WireGuard public key), read big-endian.
///
/// Treated as opaque bits (RFC 7136), so the universal/local bit is not adjusted.
public struct InterfaceID: Hashable, Sendable {
    public let value: UInt64

    public init(wireGuardKey: WireGuardPublicKey) {
        let digest = Sodium.blake2b([OverlayAddress.interfaceIDDomain, wireGuardKey.bytes], outputLength: 32)
        self.value = digest.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    init(value: UInt64) {
        self.value = value
    }

    /// False for interface ids that RFC 4291 and RFC 5453 reserve (subnet-router anycast, the
    /// IANA Ethernet block and subnet anycast). A key that hashes into them is not a valid node
    /// key: generation draws again, and receivers reject it.
    public var isUsable: Bool {
        if value == 0 { return false }
        if (0x0200_5EFF_FE00_0000...0x0200_5EFF_FEFF_FFFF).contains(value) { return false }
        if value >= 0xFDFF_FFFF_FFFF_FF80 && value <= 0xFDFF_FFFF_FFFF_FFFF { return false }
        return true
    }
}

/// The WireGuard interface name for a mesh: `smeg` followed by the first 8 characters of the mesh
/// id (12 characters, within Linux's 15-character IFNAMSIZ limit). An operator can tell from
/// `ip link` which mesh an interface belongs to.
public enum InterfaceName {
    public static let prefix = "smeg"

    public static func forMesh(_ mesh: MeshID) -> String {
        prefix + mesh.text.prefix(8)
    }
}
