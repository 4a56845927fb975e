import GossipCRDT
import Testing

@testable import MeshCore

/// The promise the naming rule exists for, checked on the responder's wire answers: whatever
/// members claim and however meshes are named, no name answers with two members.
@Suite struct DNSUniqueNameTests {
    typealias W = DNSTestWire

    /// Up to three meshes, often sharing a name or named like one another's id, each with a
    /// colliding membership from `AliasTableTests`.
    static func meshes(_ rng: inout SplitMix64) -> [DNSZone.Mesh] {
        let ids = (0..<3).map { _ in MeshID(bytes: (0..<10).map { _ in UInt8(truncatingIfNeeded: rng.next()) })! }
        let names: [String?] = [nil, "home", "home", "lab", ids[0].text, ids[1].text]
        return (0..<Int(rng.next() % 3) + 1).map { index in
            let claims = AliasTableTests.claims(&rng)
            let members = claims.map { id, alias in
                DNSZone.Member(
                    id: id, alias: alias, address: IPv6Address(high: 0xFD00 << 48 | rng.next() >> 16, low: rng.next()))
            }
            return DNSZone.Mesh(id: ids[index], name: names[Int(rng.next() % UInt64(names.count))], members: members)
        }
    }

    func answers(_ responder: DNSResponder, _ name: String) throws -> [IPv6Address] {
        let reply = try #require(responder.respond(to: W.query(name, DNSType.aaaa)))
        return try DNSMessage(decoding: reply.bytes).answers.compactMap {
            guard case .aaaa(let address) = $0.data else { return nil }
            return address
        }
    }

    @Test func noNameAnswersTwoMembers() throws {
        var rng = SplitMix64(seed: 21)
        for _ in 0..<150 {
            let meshes = Self.meshes(&rng)
            let zone = DNSZone(origin: DomainName("smeg")!, meshes: meshes)
            let responder = DNSResponder(zone: zone)
            var owners: [String: IPv6Address] = [:]
            for entry in zone.entries {
                for name in entry.names {
                    #expect(owners.updateValue(entry.address, forKey: name) == nil, "\(name) listed twice")
                    #expect(try answers(responder, name) == [entry.address])
                }
            }
            // Every name anyone claims, under every label a mesh could be known by.
            let labels = meshes.flatMap { [$0.id.text, $0.name].compactMap { $0 } }
            let hosts = meshes.flatMap { $0.members.flatMap { [$0.alias ?? "", AliasTable.shortID(of: $0.id)] } }
            for label in Set(labels) {
                for host in Set(hosts) where DNSName.isValidLabel(host.utf8) {
                    let found = try answers(responder, "\(host).\(label).smeg")
                    #expect(found.count <= 1)
                    #expect(found == owners["\(host).\(label).smeg"].map { [$0] } ?? [])
                }
            }
        }
    }

    /// The zone and the member views name members by the same table.
    @Test func theZoneNamesWhatTheAliasTableNames() {
        var rng = SplitMix64(seed: 22)
        for _ in 0..<200 {
            let claims = AliasTableTests.claims(&rng)
            let id = MeshID(bytes: [UInt8](repeating: 7, count: 10))!
            let members = claims.map {
                DNSZone.Member(id: $0, alias: $1, address: IPv6Address(high: 1, low: rng.next()))
            }
            let zone = DNSZone(origin: DomainName("smeg")!, meshes: [DNSZone.Mesh(id: id, name: "m", members: members)])
            let table = AliasTable(claims: claims)
            for member in members {
                let names = zone.entries.first { $0.address == member.address }?.names ?? []
                #expect(names == table.names(of: member.id).map { "\($0).m.smeg" })
            }
        }
    }
}
