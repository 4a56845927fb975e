import Testing

@testable import MeshCore

/// The DNS decoder and encoder: the RFC 1035 layout, compression, and every bound on
/// untrusted input.
@Suite struct DNSMessageTests {
    typealias W = DNSTestWire

    @Test func decodesAQueryWrittenByHand() throws {
        let message = try DNSMessage(decoding: W.query("Alpha.lab.smeg", DNSType.aaaa, id: 0xBEEF, edns: 4096))
        #expect(message.header.id == 0xBEEF)
        #expect(message.header.recursionDesired)
        #expect(!message.header.isResponse)
        #expect(message.questions == [DNSQuestion(name: DomainName("Alpha.lab.smeg")!, type: DNSType.aaaa)])
        let option = try #require(message.additionals.first)
        #expect(option.type == DNSType.opt && option.name == .root && option.recordClass == 4096)
    }

    @Test func headerFlagsRoundTrip() throws {
        for flags: UInt16 in [0x0000, 0x8000, 0x7800, 0x0400, 0x0200, 0x0100, 0x0080, 0x0040, 0x0020, 0x0010, 0x000F] {
            let bytes = W.header(flags: flags, counts: [0, 0, 0, 0])
            let message = try DNSMessage(decoding: bytes)
            #expect(message.encoded() == bytes, "flags \(flags)")
        }
    }

    @Test func followsACompressionPointerBackwards() throws {
        // The additional record's owner is "x" and a pointer to "lab.smeg" inside the question.
        var bytes = W.header(counts: [1, 0, 0, 1]) + W.name("alpha.lab.smeg") + W.u16(DNSType.aaaa) + W.u16(1)
        bytes += [1, UInt8(ascii: "x"), 0xC0, 18] + W.u16(DNSType.aaaa) + W.u16(1) + W.u32(10) + W.u16(16)
        bytes += IPv6Address("fd00::9")!.bytes
        let message = try DNSMessage(decoding: bytes)
        #expect(message.additionals[0].name == DomainName("x.lab.smeg"))
        #expect(message.additionals[0].data == .aaaa(IPv6Address("fd00::9")!))
    }

    @Test func decodesSOAWithCompressedNames() throws {
        let soa = DNSStartOfAuthority(
            primary: DomainName("smeg")!, mailbox: DomainName("hostmaster.smeg")!, serial: 7, refresh: 1, retry: 2,
            expire: 3, minimum: 10)
        var message = DNSMessage(
            header: DNSHeader(id: 9), questions: [DNSQuestion(name: DomainName("a.smeg")!, type: 1)])
        message.authorities = [
            DNSRecord(name: DomainName("smeg")!, type: DNSType.soa, recordClass: 1, ttl: 10, data: .soa(soa))
        ]
        let bytes = message.encoded()
        // Owner, primary and the mailbox's tail all point into the 12-byte question: then 2
        // (owner) + 10 (type, class, TTL, length) + 2 (primary) + 13 (hostmaster + pointer) + 20.
        #expect(bytes.count == 12 + 12 + 2 + 10 + 2 + 13 + 20)
        #expect(try DNSMessage(decoding: bytes) == message)
    }

    @Test func encoderCompressesOnlyIdenticalSpelling() throws {
        var message = DNSMessage(
            header: DNSHeader(id: 1), questions: [DNSQuestion(name: DomainName("A.smeg")!, type: 28)])
        message.answers = [
            DNSRecord(name: DomainName("A.smeg")!, type: 28, recordClass: 1, ttl: 1, data: .aaaa(.any)),
            DNSRecord(name: DomainName("a.smeg")!, type: 28, recordClass: 1, ttl: 1, data: .aaaa(.any)),
        ]
        let bytes = message.encoded()
        // Second answer: "a" written out, then a pointer to "smeg" at offset 14.
        #expect(Array(bytes[(12 + 12 + 28)..<(12 + 12 + 28 + 4)]) == [1, UInt8(ascii: "a"), 0xC0, 14])
        #expect(try DNSMessage(decoding: bytes) == message)
    }

    @Test func truncationSetsTCAndKeepsTheOPTRecord() throws {
        var message = DNSMessage(
            header: DNSHeader(id: 1), questions: [DNSQuestion(name: DomainName("a.smeg")!, type: 28)])
        message.answers = (0..<40).map {
            DNSRecord(
                name: DomainName("a.smeg")!, type: 28, recordClass: 1, ttl: 1,
                data: .aaaa(IPv6Address(high: 1, low: UInt64($0))))
        }
        message.additionals = [DNSRecord(name: .root, type: DNSType.opt, recordClass: 1232, ttl: 0, data: .opaque([]))]
        let bytes = message.encoded(limit: 512)
        #expect(bytes.count <= 512)
        let decoded = try DNSMessage(decoding: bytes)
        #expect(decoded.header.isTruncated)
        #expect(decoded.answers.count == (512 - 24 - 11) / 28)
        #expect(decoded.additionals.count == 1)
        #expect(!(try DNSMessage(decoding: message.encoded())).header.isTruncated)
    }

    // MARK: Malformed input

    /// Messages the decoder must refuse, each named for the rule it breaks.
    static let malformed: [(String, [UInt8])] = {
        var cases: [(String, [UInt8])] = []
        let question: [UInt8] = W.u16(28) + W.u16(1)
        cases.append(("no header", [UInt8](repeating: 0, count: 11)))
        cases.append(("question count 1, no question", W.header()))
        cases.append(("question cut in its name", W.header() + [5, 0x61, 0x62]))
        cases.append(("question without type and class", W.header() + W.name("a.smeg")))
        cases.append(("huge answer count", W.header(counts: [1, 0xFFFF, 0, 0]) + W.name("a.smeg") + question))
        cases.append(("huge question count", W.header(counts: [0xFFFF, 0, 0, 0]) + W.name("a") + question))
        cases.append(("trailing bytes", W.query("a.smeg", 28) + [0]))
        let long: [UInt8] = [64] + [UInt8](repeating: 0x61, count: 64) + [0]
        cases.append(("label length 64", W.header() + long + question))
        cases.append(("label length 0x80", W.header() + [0x80, 0] + question))
        cases.append(("pointer to itself", W.header() + [0xC0, 12] + question))
        cases.append(("pointer forwards", W.header() + [0xC0, 16, 0, 0] + question + W.name("a")))
        cases.append(("pointer into the header", W.header() + [0xC0, 2] + question))
        let record: [UInt8] = [0] + W.u16(28) + W.u16(1) + W.u32(1)
        cases.append(("AAAA data of 4 bytes", W.header(counts: [0, 1, 0, 0]) + record + W.u16(4) + [1, 2, 3, 4]))
        cases.append(("record data past the end", W.header(counts: [0, 1, 0, 0]) + record + W.u16(9) + [1]))
        return cases
    }()

    @Test(arguments: malformed)
    func malformedMessagesAreRefused(_ name: String, _ bytes: [UInt8]) {
        #expect(throws: WireError.self, "\(name)") { try DNSMessage(decoding: bytes) }
    }

    @Test func loopsAreRefusedByTheBackwardRuleBeforeThePointerBudget() {
        // A pointer to itself, and "a" then a pointer back to that "a": the second points
        // backwards, yet into its own run of labels, so following it would loop.
        let selfPointer = W.header() + [0xC0, 12] + W.u16(28) + W.u16(1)
        let loop = W.header(counts: [0, 1, 0, 0]) + [1, 0x61, 0xC0, 12] + W.u16(1) + W.u16(1) + W.u32(1) + W.u16(0)
        for (bytes, field) in [(selfPointer, "question name"), (loop, "record name")] {
            #expect(throws: WireError.invalid(field: field, reason: "compression pointer to 12 does not point back")) {
                try DNSMessage(decoding: bytes)
            }
        }
    }

    @Test func namesOver255BytesAreRefused() {
        // Four labels of 63 bytes: 4 × 64 + 1 = 257 bytes.
        let label = [63] + [UInt8](repeating: 0x61, count: 63)
        let bytes = W.header() + label + label + label + label + [0] + W.u16(28) + W.u16(1)
        #expect(throws: WireError.tooLarge(field: "question name", length: 257, limit: 255)) {
            try DNSMessage(decoding: bytes)
        }
        // Three such labels and one of 61: exactly 255, accepted.
        let last = [61] + [UInt8](repeating: 0x61, count: 61)
        #expect(throws: Never.self) {
            try DNSMessage(decoding: W.header() + label + label + label + last + [0] + W.u16(28) + W.u16(1))
        }
    }

    @Test func pointerChainsAreBounded() throws {
        // Names of one label each, every one pointing to the one before: a chain of n pointers.
        // The records are TXT with no data (kept as bytes); an empty A record would be refused.
        func chain(_ pointers: Int) -> [UInt8] {
            var bytes = W.header(counts: [0, 0, 0, UInt16(pointers + 1)])
            var previous = bytes.count
            bytes += [1, 0x61, 0] + W.u16(16) + W.u16(1) + W.u32(1) + W.u16(0)
            for _ in 0..<pointers {
                let here = bytes.count
                bytes += [1, 0x61, 0xC0 | UInt8(previous >> 8), UInt8(previous & 0xFF)]
                bytes += W.u16(16) + W.u16(1) + W.u32(1) + W.u16(0)
                previous = here
            }
            return bytes
        }
        let longest = try DNSMessage(decoding: chain(DNSMessage.maximumPointersPerName))
        #expect(longest.additionals.last?.name.labels.count == DNSMessage.maximumPointersPerName + 1)
        // The same chain one link longer exceeds the pointer budget in its last name.
        #expect(throws: WireError.self) { try DNSMessage(decoding: chain(DNSMessage.maximumPointersPerName + 1)) }
    }

    @Test func domainNamesCompareBytesAndIgnoreASCIICase() throws {
        let name = try #require(DomainName("Alpha.LAB.smeg."))
        #expect(name.labels(before: DomainName("smeg")!) == [Array("alpha".utf8), Array("lab".utf8)])
        #expect(name.labels(before: DomainName("lab.SMEG")!) == [Array("alpha".utf8)])
        #expect(name.labels(before: DomainName("eg")!) == nil)
        #expect(DomainName("..") == nil)
        #expect(DomainName(String(repeating: "a", count: 64)) == nil)
        #expect(DomainName(".")?.labels.isEmpty == true)
        let dotted = try #require(DomainName(labels: [Array("alpha.lab".utf8), Array("smeg".utf8)]))
        #expect(dotted.description == "alpha\\046lab.smeg.")
        #expect(dotted.labels(before: DomainName("smeg")!) == [Array("alpha.lab".utf8)])
    }
}
