import GossipCRDT

@testable import MeshCore

/// DNS messages written byte by byte, independently of `DNSMessage.encoded`, so the decoder
/// and the responder are tested against the RFC 1035 layout rather than against themselves.
enum DNSTestWire {
    static func u16(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }
    static func u32(_ value: UInt32) -> [UInt8] { u16(UInt16(value >> 16)) + u16(UInt16(value & 0xFFFF)) }

    /// Labels of dotted text, then the root byte.
    static func name(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        for label in text.split(separator: ".") {
            bytes.append(UInt8(label.utf8.count))
            bytes += Array(label.utf8)
        }
        return bytes + [0]
    }

    static func header(id: UInt16 = 0x1234, flags: UInt16 = 0x0100, counts: [UInt16] = [1, 0, 0, 0]) -> [UInt8] {
        u16(id) + u16(flags) + counts.flatMap(u16)
    }

    /// An OPT record: root owner, payload size in the class, TTL = ext-rcode | version | flags.
    static func opt(size: UInt16 = 1232, ttl: UInt32 = 0) -> [UInt8] {
        [0] + u16(DNSType.opt) + u16(size) + u32(ttl) + u16(0)
    }

    /// A one-question query, optionally with an OPT record.
    static func query(
        _ name: String, _ type: UInt16, id: UInt16 = 0x1234, flags: UInt16 = 0x0100,
        recordClass: UInt16 = DNSClass.internet, edns: UInt16? = nil, ednsTTL: UInt32 = 0
    ) -> [UInt8] {
        header(id: id, flags: flags, counts: [1, 0, 0, edns == nil ? 0 : 1]) + self.name(name) + u16(type)
            + u16(recordClass) + (edns.map { opt(size: $0, ttl: ednsTTL) } ?? [])
    }

    /// A member id whose short id is `shortId` (8 hex digits); `rest` tells apart members
    /// that share one.
    static func node(_ shortId: String, rest: UInt64 = 0) -> NodeID {
        NodeID(UInt64(shortId, radix: 16)! << 32, rest, 0, 0)
    }

    /// A zone from (mesh label, [(alias, short id, address)]). A label that is a mesh id is the
    /// id of a mesh without a name; any other is the name of a mesh whose id is made up.
    static func makeZone(_ meshes: [(String, [(String?, String, String)])], origin: String = "smeg") -> DNSZone {
        DNSZone(
            origin: DomainName(origin)!,
            meshes: meshes.enumerated().map { index, mesh in
                let (label, members) = mesh
                let id = MeshID(label) ?? MeshID(bytes: [UInt8](repeating: UInt8(index), count: 10))!
                return DNSZone.Mesh(
                    id: id, name: MeshID(label) == nil ? label : nil,
                    members: members.map { DNSZone.Member(id: node($1), alias: $0, address: IPv6Address($2)!) })
            })
    }

    /// 1a2b3c4d alone claims "alpha" and holds it; 5e6f7a8b and 0badcafe both claim "web", so
    /// it names neither. The second mesh has no name, so its id is its label.
    static let zone = makeZone([
        (
            "lab",
            [("alpha", "1a2b3c4d", "fd00:1::1"), ("web", "5e6f7a8b", "fd00:1::2"), ("web", "0badcafe", "fd00:1::3")]
        ),
        ("aaaqeayeaudaocaj", [("beta", "deadbeef", "fd00:2::1")]),
    ])
}
