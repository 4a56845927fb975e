import Testing

@testable import MeshCore

/// IPv4 overlay addresses in the names: A beside AAAA for every member name, NODATA for a name
/// that exists without an address of the asked family, and both families in the hosts export.
@Suite struct DNSIPv4Tests {
    typealias W = DNSTestWire

    /// In "lab": alpha (1a2b3c4d) holds 100.64.0.1; v6only (22222222) has no IPv4 address;
    /// 5e6f7a8b and 0badcafe both claim "web" (so neither has it) and hold 100.64.0.2 and .3.
    /// The unnamed mesh's beta (deadbeef) holds 10.9.0.1.
    static let zone = DNSZone(
        origin: DomainName("smeg")!,
        meshes: [
            DNSZone.Mesh(
                id: MeshID(bytes: [UInt8](repeating: 0, count: 10))!, name: "lab",
                members: [
                    member("1a2b3c4d", "alpha", "fd00:1::1", "100.64.0.1"),
                    member("22222222", "v6only", "fd00:1::4", nil),
                    member("5e6f7a8b", "web", "fd00:1::2", "100.64.0.2"),
                    member("0badcafe", "web", "fd00:1::3", "100.64.0.3"),
                ]),
            DNSZone.Mesh(
                id: MeshID("aaaqeayeaudaocaj")!, name: nil,
                members: [member("deadbeef", "beta", "fd00:2::1", "10.9.0.1")]),
        ])

    static func member(_ shortId: String, _ alias: String?, _ ipv6: String, _ ipv4: String?) -> DNSZone.Member {
        DNSZone.Member(
            id: W.node(shortId), alias: alias, address: IPv6Address(ipv6)!, ipv4: ipv4.map { IPv4Address($0)! })
    }

    let responder = DNSResponder(zone: Self.zone)

    func ask(_ query: [UInt8]) throws -> (DNSMessage, DNSResponseCode) {
        let reply = try #require(responder.respond(to: query))
        let message = try DNSMessage(decoding: reply.bytes)
        #expect(message.header.isResponse && message.header.id == DNSHeader(prefixOf: query)?.id)
        return (message, reply.rcode)
    }

    /// Each answer as "TYPE address", in order.
    func answers(_ message: DNSMessage) -> [String] {
        message.answers.map { record in
            switch record.data {
            case .aaaa(let address): "AAAA \(address)"
            case .a(let address): "A \(address)"
            default: "other \(record.type)"
            }
        }
    }

    /// NOERROR or NXDOMAIN with no answer and the zone's SOA in authority.
    func isNegative(_ message: DNSMessage) -> Bool {
        message.answers.isEmpty && message.authorities.map(\.type) == [DNSType.soa]
            && message.authorities.first?.name == DomainName("smeg")
    }

    // MARK: Answers

    @Test func aQueriesAnswerTheIPv4AddressOfAliasesAndShortIds() throws {
        for name in ["alpha.lab.smeg", "1a2b3c4d.lab.smeg", "ALPHA.Lab.SMEG"] {
            let (reply, rcode) = try ask(W.query(name, DNSType.a))
            #expect(rcode == .noError, "\(name)")
            #expect(answers(reply) == ["A 100.64.0.1"], "\(name)")
            #expect(reply.header.isAuthoritative && reply.authorities.isEmpty, "\(name)")
            #expect(reply.answers.allSatisfy { $0.ttl == DNSResponder.ttl && $0.recordClass == DNSClass.internet })
            #expect(reply.answers.first?.name == DomainName(name), "the owner name is the question as asked")
        }
        #expect(answers(try ask(W.query("beta.aaaqeayeaudaocaj.smeg", DNSType.a)).0) == ["A 10.9.0.1"])
        #expect(answers(try ask(W.query("deadbeef.aaaqeayeaudaocaj.smeg", DNSType.a)).0) == ["A 10.9.0.1"])
    }

    @Test func aaaaStillAnswersOnlyTheIPv6Address() throws {
        #expect(answers(try ask(W.query("alpha.lab.smeg", DNSType.aaaa)).0) == ["AAAA fd00:1::1"])
        #expect(answers(try ask(W.query("v6only.lab.smeg", DNSType.aaaa)).0) == ["AAAA fd00:1::4"])
    }

    @Test func anyAnswersBothFamiliesAndOnlyTheOneAMemberHas() throws {
        let (both, rcode) = try ask(W.query("alpha.lab.smeg", DNSType.any))
        #expect(rcode == .noError)
        #expect(answers(both) == ["AAAA fd00:1::1", "A 100.64.0.1"])
        #expect(both.authorities.isEmpty)
        let (one, _) = try ask(W.query("22222222.lab.smeg", DNSType.any))
        #expect(answers(one) == ["AAAA fd00:1::4"])
        #expect(answers(try ask(W.query("alpha.lab.smeg", DNSType.a, recordClass: DNSClass.any)).0) == ["A 100.64.0.1"])
    }

    /// The A answer on the wire, written out by hand from RFC 1035 §3.4.1 and §4.1.3.
    @Test func anAnswerBytesMatchRFC1035() throws {
        let query = W.query("1a2b3c4d.lab.smeg", DNSType.a, id: 0xABCD)
        let reply = try #require(responder.respond(to: query)).bytes
        let expected =
            W.header(id: 0xABCD, flags: 0x8500, counts: [1, 1, 0, 0]) + W.name("1a2b3c4d.lab.smeg") + W.u16(1)
            + W.u16(1) + [0xC0, 0x0C] + W.u16(1) + W.u16(1) + W.u32(10) + W.u16(4) + [100, 64, 0, 1]
        #expect(reply == expected)
    }

    // MARK: NODATA and NXDOMAIN

    /// A name that exists has NODATA (NOERROR, the SOA) for a family it has no address of: a
    /// resolver then caches "no A" without concluding that the name does not exist, and goes on
    /// to use the AAAA.
    @Test(arguments: [
        ("v6only.lab.smeg", DNSType.a), ("22222222.lab.smeg", DNSType.a), ("lab.smeg", DNSType.a),
        ("aaaqeayeaudaocaj.smeg", DNSType.a), ("smeg", DNSType.a), ("alpha.lab.smeg", DNSType.mx),
    ])
    func aNameWithoutAnAddressOfThatFamilyIsNODATA(name: String, type: UInt16) throws {
        let (reply, rcode) = try ask(W.query(name, type))
        #expect(rcode == .noError)
        #expect(reply.header.isAuthoritative)
        #expect(isNegative(reply))
    }

    /// A contested alias is no name at all, whichever family is asked: neither claimant's IPv4
    /// address answers for it.
    @Test(arguments: ["web.lab.smeg", "nobody.lab.smeg", "alpha.aaaqeayeaudaocaj.smeg"])
    func namesThatDoNotExistAreNXDOMAINForAToo(name: String) throws {
        for type in [DNSType.a, DNSType.any] {
            let (reply, rcode) = try ask(W.query(name, type))
            #expect(rcode == .nameError, "\(name) \(type)")
            #expect(isNegative(reply))
        }
        #expect(answers(try ask(W.query("5e6f7a8b.lab.smeg", DNSType.a)).0) == ["A 100.64.0.2"])
    }

    /// Two addresses for the longest name a zone holds still fit 512 bytes without EDNS.
    @Test func bothAddressesOfTheLongestNameFitAPlainReply() throws {
        let label = String(repeating: "a", count: 63)
        let mesh = [label, label, label, String(repeating: "m", count: 54)].joined(separator: ".")
        let long = DNSZone(
            origin: DomainName(mesh)!,
            meshes: [
                DNSZone.Mesh(
                    id: MeshID("aaaqeayeaudaocaj")!, name: "x",
                    members: [Self.member("1a2b3c4d", "host", "fd00::1", "100.64.0.1")])
            ])
        let name = "host.x.\(mesh)"
        #expect(DomainName(name)!.wireLength == 255)
        let reply = try #require(DNSResponder(zone: long).respond(to: W.query(name, DNSType.any)))
        let message = try DNSMessage(decoding: reply.bytes)
        #expect(reply.bytes.count <= DNSResponder.plainLimit && !message.header.isTruncated)
        #expect(answers(message) == ["AAAA fd00::1", "A 100.64.0.1"])
    }

    // MARK: The zone and the hosts export

    @Test func theZoneLooksUpBothAddresses() {
        let zone = Self.zone
        #expect(
            zone.lookup(DomainName("alpha.lab.smeg")!)
                == .name(IPv6Address("fd00:1::1")!, ipv4: IPv4Address("100.64.0.1")!))
        #expect(zone.lookup(DomainName("v6only.lab.smeg")!) == .name(IPv6Address("fd00:1::4")!))
        #expect(zone.lookup(DomainName("lab.smeg")!) == .name(nil))
        #expect(
            zone.entries.map { $0.ipv4.map { "\($0)" } ?? "-" } == [
                "10.9.0.1", "100.64.0.1", "100.64.0.2", "100.64.0.3", "-",
            ])
    }

    @Test func theHostsExportHasALinePerAddressIPv6First() {
        let lines = HostsFile.render(Self.zone).split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(
            lines == [
                "fd00:2::1\tbeta.aaaqeayeaudaocaj.smeg deadbeef.aaaqeayeaudaocaj.smeg",
                "10.9.0.1\tbeta.aaaqeayeaudaocaj.smeg deadbeef.aaaqeayeaudaocaj.smeg",
                "fd00:1::1\talpha.lab.smeg 1a2b3c4d.lab.smeg",
                "100.64.0.1\talpha.lab.smeg 1a2b3c4d.lab.smeg",
                "fd00:1::2\t5e6f7a8b.lab.smeg",
                "100.64.0.2\t5e6f7a8b.lab.smeg",
                "fd00:1::3\t0badcafe.lab.smeg",
                "100.64.0.3\t0badcafe.lab.smeg",
                "fd00:1::4\tv6only.lab.smeg 22222222.lab.smeg",
            ])
        // Without IPv4 addresses the export is what it was: one line per member.
        #expect(HostsFile.render(W.zone).split(separator: "\n").filter { !$0.hasPrefix("#") }.count == 4)
    }

    // MARK: The codec

    @Test func aRecordsRoundTripAndMustHoldFourBytes() throws {
        var message = DNSMessage(
            header: DNSHeader(id: 7), questions: [DNSQuestion(name: DomainName("a.smeg")!, type: DNSType.a)])
        message.answers = [
            DNSRecord(
                name: DomainName("a.smeg")!, type: DNSType.a, recordClass: 1, ttl: 10,
                data: .a(IPv4Address("192.0.2.33")!))
        ]
        let bytes = message.encoded()
        #expect(Array(bytes.suffix(6)) == [0, 4, 192, 0, 2, 33])
        #expect(try DNSMessage(decoding: bytes) == message)
        let record: [UInt8] = [0] + W.u16(DNSType.a) + W.u16(1) + W.u32(1)
        for data in [[UInt8](), [1, 2, 3], [UInt8](repeating: 1, count: 16)] {
            let malformed = W.header(counts: [0, 1, 0, 0]) + record + W.u16(UInt16(data.count)) + data
            #expect(throws: WireError.invalid(field: "A data", reason: "\(data.count) bytes, not 4")) {
                try DNSMessage(decoding: malformed)
            }
        }
    }
}
