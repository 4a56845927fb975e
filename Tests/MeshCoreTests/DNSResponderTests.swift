import Testing

@testable import MeshCore

/// Every rule of `DNSResponder`, from queries written byte by byte.
@Suite struct DNSResponderTests {
    typealias W = DNSTestWire
    let responder = DNSResponder(zone: W.zone)

    /// Answers `query` and decodes the reply, which must be well formed.
    func ask(_ query: [UInt8]) throws -> (DNSMessage, DNSResponseCode) {
        let reply = try #require(responder.respond(to: query))
        let message = try DNSMessage(decoding: reply.bytes)
        #expect(message.header.isResponse)
        #expect(message.header.id == DNSHeader(prefixOf: query)?.id)
        #expect(UInt16(message.header.rcode) == reply.rcode.rawValue & 0xF)
        return (message, reply.rcode)
    }

    func addresses(_ message: DNSMessage) -> [String] {
        message.answers.compactMap {
            guard case .aaaa(let address) = $0.data else { return nil }
            return "\(address)"
        }
    }

    func isNegative(_ message: DNSMessage) -> Bool {
        guard message.answers.isEmpty, message.authorities.count == 1, message.authorities[0].type == DNSType.soa,
            message.authorities[0].name == DomainName("smeg"),
            case .soa(let soa) = message.authorities[0].data
        else { return false }
        return soa.minimum == DNSResponder.ttl && message.authorities[0].ttl == DNSResponder.ttl
    }

    // MARK: Answers

    @Test func aliasAnswersOnlyTheMemberHoldingIt() throws {
        let (reply, rcode) = try ask(W.query("alpha.lab.smeg", DNSType.aaaa))
        #expect(rcode == .noError)
        #expect(reply.header.isAuthoritative && reply.header.recursionDesired && !reply.header.recursionAvailable)
        #expect(addresses(reply) == ["fd00:1::1"])
        #expect(reply.answers.allSatisfy { $0.ttl == DNSResponder.ttl && $0.name == DomainName("alpha.lab.smeg") })
        #expect(reply.authorities.isEmpty && reply.additionals.isEmpty)
    }

    @Test func answerBytesMatchRFC1035() throws {
        let query = W.query("0badcafe.lab.smeg", DNSType.aaaa, id: 0xABCD)
        let reply = try #require(responder.respond(to: query)).bytes
        let expected =
            W.header(id: 0xABCD, flags: 0x8500, counts: [1, 1, 0, 0]) + W.name("0badcafe.lab.smeg") + W.u16(28)
            + W.u16(1) + [0xC0, 0x0C] + W.u16(28) + W.u16(1) + W.u32(10) + W.u16(16)
            + IPv6Address("fd00:1::3")!.bytes
        #expect(reply == expected)
    }

    @Test func shortIdsAndMeshIdLabelsResolve() throws {
        #expect(addresses(try ask(W.query("5e6f7a8b.lab.smeg", DNSType.aaaa)).0) == ["fd00:1::2"])
        #expect(addresses(try ask(W.query("beta.aaaqeayeaudaocaj.smeg", DNSType.aaaa)).0) == ["fd00:2::1"])
        #expect(addresses(try ask(W.query("deadbeef.aaaqeayeaudaocaj.smeg", DNSType.aaaa)).0) == ["fd00:2::1"])
    }

    @Test func namesMatchWhateverTheCaseAndTheQuestionIsEchoedAsSent() throws {
        let (reply, rcode) = try ask(W.query("ALPHA.Lab.SmEg", DNSType.aaaa))
        #expect(rcode == .noError)
        #expect(addresses(reply) == ["fd00:1::1"])
        #expect(reply.questions == [DNSQuestion(name: DomainName("ALPHA.Lab.SmEg")!, type: DNSType.aaaa)])
        #expect(reply.questions[0].name != DomainName("alpha.lab.smeg"))
    }

    @Test func anyAnswersTheAddresses() throws {
        let (reply, rcode) = try ask(W.query("1a2b3c4d.lab.smeg", DNSType.any))
        #expect(rcode == .noError)
        #expect(addresses(reply) == ["fd00:1::1"])
        let (anyClass, _) = try ask(W.query("1a2b3c4d.lab.smeg", DNSType.aaaa, recordClass: DNSClass.any))
        #expect(addresses(anyClass) == ["fd00:1::1"])
    }

    @Test func theOriginHoldsTheSOA() throws {
        for type in [DNSType.soa, DNSType.any] {
            let (reply, rcode) = try ask(W.query("smeg", type))
            #expect(rcode == .noError && reply.header.isAuthoritative)
            #expect(reply.answers.map(\.type) == [DNSType.soa])
            guard case .soa(let soa) = reply.answers.first?.data else { throw NoSOA() }
            #expect(soa.primary == DomainName("smeg") && soa.mailbox == DomainName("hostmaster.smeg"))
        }
        #expect(isNegative(try ask(W.query("smeg", DNSType.aaaa)).0))
    }

    struct NoSOA: Error {}

    // MARK: NODATA, NXDOMAIN, REFUSED

    @Test(arguments: [
        ("alpha.lab.smeg", DNSType.a), ("alpha.lab.smeg", DNSType.mx), ("lab.smeg", DNSType.aaaa),
        ("aaaqeayeaudaocaj.smeg", DNSType.any), ("smeg", DNSType.a), ("beta.aaaqeayeaudaocaj.smeg", DNSType.soa),
    ])
    func existingNamesWithoutThatTypeAreNODATA(name: String, type: UInt16) throws {
        let (reply, rcode) = try ask(W.query(name, type))
        #expect(rcode == .noError)
        #expect(reply.header.isAuthoritative)
        #expect(isNegative(reply))
    }

    @Test(arguments: [
        "gamma.lab.smeg", "web.lab.smeg", "nope.smeg", "x.alpha.lab.smeg", "alpha.other.smeg",
        "1a2b3c4d.aaaqeayeaudaocaj.smeg",
    ])
    func missingNamesInTheZoneAreNXDOMAIN(name: String) throws {
        let (reply, rcode) = try ask(W.query(name, DNSType.aaaa))
        #expect(rcode == .nameError)
        #expect(reply.header.isAuthoritative)
        #expect(isNegative(reply))
    }

    @Test func aLabelHoldingADotIsNotTwoLabels() throws {
        // One label "alpha.lab" under smeg: no mesh has that label.
        let name = [9] + Array("alpha.lab".utf8) + [4] + Array("smeg".utf8) + [0]
        let query = W.header() + name + W.u16(DNSType.aaaa) + W.u16(1)
        #expect(try ask(query).1 == .nameError)
    }

    @Test(arguments: ["example.com", "alpha.lab.smeg.evil", "alpha.xsmeg", "alpha.lab.smegx", "com"])
    func namesOutsideTheZoneAreREFUSED(name: String) throws {
        let (reply, rcode) = try ask(W.query(name, DNSType.aaaa))
        #expect(rcode == .refused)
        #expect(!reply.header.isAuthoritative)
        #expect(reply.answers.isEmpty && reply.authorities.isEmpty)
        #expect(reply.questions.count == 1)
    }

    @Test func rootQueryIsREFUSED() throws {
        let query = W.header() + [0] + W.u16(DNSType.aaaa) + W.u16(1)
        #expect(try ask(query).1 == .refused)
    }

    @Test func otherClassesAndZoneTransfersAreREFUSED() throws {
        #expect(try ask(W.query("alpha.lab.smeg", DNSType.aaaa, recordClass: 3)).1 == .refused)
        #expect(try ask(W.query("smeg", DNSType.axfr)).1 == .refused)
        #expect(try ask(W.query("smeg", DNSType.ixfr)).1 == .refused)
    }

    // MARK: Malformed queries

    @Test func noHeaderNoReply() {
        for count in 0..<12 {
            #expect(responder.respond(to: [UInt8](repeating: 0, count: count)) == nil)
        }
    }

    @Test func responsesAreNeverAnswered() {
        #expect(responder.respond(to: W.query("alpha.lab.smeg", DNSType.aaaa, flags: 0x8100)) == nil)
        #expect(responder.respond(to: W.header(flags: 0xFFFF)) == nil)
    }

    @Test(arguments: [1, 2, 4, 5, 15] as [UInt16])
    func otherOpcodesAreNOTIMP(opcode: UInt16) throws {
        let (reply, rcode) = try ask(W.query("alpha.lab.smeg", DNSType.aaaa, flags: opcode << 11))
        #expect(rcode == .notImplemented)
        #expect(reply.header.opcode == UInt8(opcode))
        #expect(reply.questions.isEmpty && reply.answers.isEmpty)
    }

    /// Queries that must get FORMERR, each named for the rule it breaks.
    static let malformed: [(String, [UInt8])] = {
        var cases: [(String, [UInt8])] = []
        let question: [UInt8] = W.name("alpha.lab.smeg") + W.u16(28) + W.u16(1)
        let query = W.query("alpha.lab.smeg", DNSType.aaaa)
        cases.append(("no question", W.header(counts: [0, 0, 0, 0])))
        let second: [UInt8] = W.name("smeg") + W.u16(28) + W.u16(1)
        cases.append(("two questions", W.header(counts: [2, 0, 0, 0]) + question + second))
        cases.append(("huge counts", W.header(counts: [1, 0xFFFF, 0xFFFF, 0xFFFF]) + question))
        cases.append(("truncated question", Array(query.dropLast(3))))
        let long: [UInt8] = [64] + [UInt8](repeating: 0x61, count: 64) + [0]
        cases.append(("label over 63", W.header() + long + W.u16(28) + W.u16(1)))
        cases.append(("pointer loop", W.header() + [0xC0, 12] + W.u16(28) + W.u16(1)))
        let forward: [UInt8] = [0xC0, 20] + W.u16(28) + W.u16(1) + [0, 0] + W.name("smeg")
        cases.append(("forward pointer", W.header() + forward))
        cases.append(("trailing garbage", query + [1, 2, 3]))
        return cases
    }()

    @Test(arguments: malformed)
    func malformedQueriesAreFORMERR(_ name: String, _ query: [UInt8]) throws {
        let (reply, rcode) = try ask(query)
        #expect(rcode == .formatError, "\(name)")
        #expect(reply.questions.isEmpty && reply.answers.isEmpty && reply.additionals.isEmpty, "\(name)")
    }

    @Test func oversizedQueriesAreFORMERR() throws {
        // An OPT record padded with an option to 600 bytes is fine with EDNS; the same size
        // without EDNS is over RFC 1035's 512 bytes; over 1232 is refused either way.
        func padded(to size: Int, edns: Bool) -> [UInt8] {
            var query = W.header(counts: [1, 0, 0, 1]) + W.name("alpha.lab.smeg") + W.u16(28) + W.u16(1)
            let fill = size - query.count - 11
            query += [0] + W.u16(edns ? DNSType.opt : 16) + W.u16(1232) + W.u32(0) + W.u16(UInt16(fill))
            return query + [UInt8](repeating: 0, count: fill)
        }
        #expect(try ask(padded(to: 600, edns: true)).1 == .noError)
        #expect(try ask(padded(to: 600, edns: false)).1 == .formatError)
        #expect(try ask(padded(to: 512, edns: false)).1 == .noError)
        #expect(try ask(padded(to: 1232, edns: true)).1 == .noError)
        #expect(try ask(padded(to: 1233, edns: true)).1 == .formatError)
    }

    // MARK: EDNS

    @Test func ednsIsEchoedWithOurSizeAndTheDOBit() throws {
        let (reply, rcode) = try ask(W.query("alpha.lab.smeg", DNSType.aaaa, edns: 4096, ednsTTL: 0x8000))
        #expect(rcode == .noError)
        let option = try #require(reply.additionals.first)
        #expect(reply.additionals.count == 1)
        #expect(option.type == DNSType.opt && option.name == .root)
        #expect(option.recordClass == UInt16(DNSResponder.ednsLimit))
        #expect(option.ttl == 0x8000)
        #expect(option.data == .opaque([]))
        let (plain, _) = try ask(W.query("alpha.lab.smeg", DNSType.aaaa, edns: 1232))
        #expect(plain.additionals.first?.ttl == 0)
        #expect(try ask(W.query("alpha.lab.smeg", DNSType.aaaa)).0.additionals.isEmpty)
    }

    @Test func ednsVersionOneIsBADVERS() throws {
        let (reply, rcode) = try ask(W.query("alpha.lab.smeg", DNSType.aaaa, edns: 1232, ednsTTL: 0x0001_0000))
        #expect(rcode == .badVersion)
        #expect(reply.header.rcode == 0)
        #expect(reply.answers.isEmpty)
        #expect(reply.additionals.first?.ttl == 0x0100_0000)  // extended rcode 1, version 0
    }

    @Test func badOPTRecordsAreFORMERR() throws {
        let base = W.header(counts: [1, 0, 0, 2]) + W.name("alpha.lab.smeg") + W.u16(28) + W.u16(1)
        #expect(try ask(base + W.opt() + W.opt()).1 == .formatError)
        let named =
            W.header(counts: [1, 0, 0, 1]) + W.name("alpha.lab.smeg") + W.u16(28) + W.u16(1)
            + [0xC0, 12] + W.u16(DNSType.opt) + W.u16(1232) + W.u32(0) + W.u16(0)
        #expect(try ask(named).1 == .formatError)
    }

    /// Forty members claim "web": the name has no owner, so it is NXDOMAIN like any missing
    /// name, whatever size the client offers, while each claimant's short id still answers.
    @Test func aContestedAliasIsNXDOMAINAtAnySize() throws {
        let crowd = W.makeZone([("lab", (1...40).map { ("web", String(format8: $0), "fd00::\($0)") })])
        let responder = DNSResponder(zone: crowd)
        for edns: UInt16? in [nil, 100, 1232, 65_000] {
            let answer = try #require(responder.respond(to: W.query("web.lab.smeg", DNSType.aaaa, edns: edns)))
            let reply = try DNSMessage(decoding: answer.bytes)
            #expect(answer.rcode == .nameError && reply.header.isAuthoritative)
            #expect(answer.bytes.count <= DNSResponder.plainLimit && !reply.header.isTruncated)
            #expect(isNegative(reply))
            #expect(reply.additionals.count == (edns == nil ? 0 : 1))
        }
        for member in [1, 17, 40] {
            let query = W.query("\(String(format8: member)).lab.smeg", DNSType.aaaa)
            let reply = try DNSMessage(decoding: try #require(responder.respond(to: query)).bytes)
            #expect(addresses(reply) == ["fd00::\(member)"])
        }
    }
}

extension String {
    /// Eight lowercase hex digits, as short ids are written.
    init(format8 value: Int) {
        let hex = String(value, radix: 16)
        self = String(repeating: "0", count: 8 - hex.count) + hex
    }
}
