import GossipCRDT
import MeshCore

/// Queries are read from anyone who can reach the responder's port. The fuzzer runs the
/// responder on arbitrary bytes against a fixed zone (the seed corpus holds real queries for
/// its names: AAAA, A, ANY, with EDNS, with a compression pointer) and checks what the daemon
/// relies on: every reply decodes, answers the query's id, fits the size the query allows and
/// carries at most one address of each family (two members claim one alias in this zone, and
/// all but one member have an IPv4 address too); and every message that decodes encodes back to
/// the same message.
private let meshes: [(MeshID, String?, [(String?, UInt64, UInt64)])] = [
    (
        MeshID(bytes: [UInt8](repeating: 0xAA, count: 10))!, "lab",
        [
            ("alpha", 0x1a2b_3c4d, 1), ("alpha", 0x5e6f_7a8b, 2), (nil, 0x0bad_cafe, 3),
        ]
    ),
    (MeshID("aaaqeayeaudaocaj")!, nil, [("beta", 0xdead_beef, 4)]),
]
private let zone = DNSZone(
    origin: DomainName("smeg")!,
    meshes: meshes.map { id, name, members in
        let prefix: UInt64 = 0xfd00 << 48
        return DNSZone.Mesh(
            id: id, name: name,
            members: members.map {
                DNSZone.Member(
                    id: NodeID($1 << 32, 0, 0, 0), alias: $0, address: IPv6Address(high: prefix, low: $2),
                    ipv4: $2 == 3 ? nil : IPv4Address(100, 64, 0, UInt8($2)))
            })
    })
private let responder = DNSResponder(zone: zone)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let reply = responder.respond(to: bytes) {
        guard let decoded = try? DNSMessage(decoding: reply.bytes) else { fatalError("reply does not decode") }
        guard decoded.header.id == DNSHeader(prefixOf: bytes)?.id, decoded.header.isResponse,
            reply.bytes.count <= DNSResponder.ednsLimit
        else { fatalError("reply has the wrong id, no QR bit, or is too large") }
        // Two members claim "alpha": a name must still never answer with two addresses of a family.
        let types = decoded.answers.map(\.type)
        guard types.count == Set(types).count, Set(types).isSubset(of: [DNSType.aaaa, DNSType.a, DNSType.soa]) else {
            fatalError("one name answered with several records of a type")
        }
    }
    if let message = try? DNSMessage(decoding: bytes) {
        let again = try? DNSMessage(decoding: message.encoded())
        guard let again else { fatalError("an encoded message does not decode") }
        let sameCounts =
            again.answers.count == message.answers.count && again.authorities.count == message.authorities.count
            && again.additionals.count == message.additionals.count
        // Only a message over 64 KiB once re-encoded loses records; any other must round-trip.
        if sameCounts, again != message { fatalError("decode → encode → decode changed the message") }
    }
    return 0
}
