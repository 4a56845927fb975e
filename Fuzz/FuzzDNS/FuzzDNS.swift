import MeshCore

/// Queries are read from anyone who can reach the responder's port. The fuzzer runs the
/// responder on arbitrary bytes against a fixed zone (the seed corpus holds real queries for
/// its names: AAAA, A, ANY, with EDNS, with a compression pointer) and checks what the daemon
/// relies on: every reply decodes, answers the query's id, and fits the size the query allows;
/// and every message that decodes encodes back to the same message.
private let meshes: [(String, [(String?, String, UInt64)])] = [
    ("lab", [("alpha", "1a2b3c4d", 1), ("alpha", "5e6f7a8b", 2), (nil, "0badcafe", 3)]),
    ("aaaqeayeaudaocaj", [("beta", "deadbeef", 4)]),
]
private let zone = DNSZone(
    origin: DomainName("smeg")!,
    meshes: meshes.map { label, members in
        let prefix: UInt64 = 0xfd00 << 48
        return DNSZone.Mesh(
            label: label,
            members: members.map { DNSZone.Member(alias: $0, shortId: $1, address: IPv6Address(high: prefix, low: $2)) }
        )
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
