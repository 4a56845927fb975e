/// What `smegctl invite` prints for a mesh with owners: the mesh's charter, an owner-signed
/// ticket and where the issuing owner answers, in one string for `smegctl join`. No secret:
/// the joiner proves it holds the ticket to the issuing owner, which seals the mesh secret to
/// the joiner's own key (`JoinMessage`).
///
/// Text form: `smeg2-` and lowercase base32 of
/// `mesh id (10) ‖ charter length (2) ‖ charter ‖ ticket (125) ‖ count (1) ‖ endpoints ‖ checksum (4)`,
/// the checksum as in `InviteToken`. Decoding verifies the charter against the mesh id and the
/// ticket's signature, so a value has always been checked.
public struct Invitation: Hashable, Sendable {
    public static let prefix = "smeg2-"

    public let charter: MeshCharter
    public let ticket: InviteTicket
    /// Where the issuing owner's gossip answers: the join request goes there.
    public let bootstrap: [Endpoint]

    public var mesh: MeshID { charter.mesh }

    public init(charter: MeshCharter, ticket: InviteTicket, bootstrap: [Endpoint]) throws(InviteTokenError) {
        guard (1...InviteToken.maxEndpoints).contains(bootstrap.count) else { throw .endpointCount(bootstrap.count) }
        self.charter = charter
        self.ticket = ticket
        self.bootstrap = bootstrap
    }

    public var text: String {
        var writer = ByteWriter(capacity: 512)
        writer.writeBytes(charter.mesh.bytes)
        writer.writeLengthPrefixed(charter.bytes, limit: MeshCharter.maxByteCount, field: "charter")
        writer.writeBytes(ticket.bytes)
        writer.writeCount(bootstrap.count, limit: InviteToken.maxEndpoints)
        for endpoint in bootstrap { writer.writeEndpoint(endpoint) }
        let body = writer.bytes
        return Self.prefix + Base32.encode(body + InviteToken.checksum(body[...]))
    }

    /// Parses an invitation as pasted (whitespace trimmed, any case).
    public init(_ input: String) throws(InviteTokenError) {
        let body = try InviteToken.unwrap(input, prefix: Self.prefix)
        var reader = ByteReader(body)
        let mesh: MeshID
        let charterBytes: [UInt8]
        let ticketBytes: [UInt8]
        var endpoints: [Endpoint] = []
        do {
            mesh = try reader.readMeshID("mesh id")
            charterBytes = try reader.readLengthPrefixed("charter", limit: MeshCharter.maxByteCount)
            ticketBytes = try reader.readBytes(InviteTicket.byteCount, "ticket")
            let count = try reader.readCount("endpoints", limit: InviteToken.maxEndpoints, minimumElementSize: 7)
            for _ in 0..<count { endpoints.append(try reader.readEndpoint("endpoint", allowNames: true)) }
            try reader.finish()
        } catch {
            throw .malformed(error)
        }
        let charter: MeshCharter
        do {
            charter = try MeshCharter(bytes: charterBytes, mesh: mesh)
        } catch {
            throw .unsignedSettings(error)
        }
        let ticket: InviteTicket
        do {
            ticket = try InviteTicket(bytes: ticketBytes, mesh: mesh)
        } catch {
            throw .badTicket(error)
        }
        try self.init(charter: charter, ticket: ticket, bootstrap: endpoints)
    }
}

extension Invitation: CustomStringConvertible {
    public var description: String {
        "Invitation(mesh: \(mesh), invite: \(ticket.id), bootstrap: \(bootstrap.map(\.description).joined(separator: ", ")))"
    }
}
