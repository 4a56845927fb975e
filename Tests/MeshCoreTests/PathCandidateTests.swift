import GossipCRDT
import Testing

@testable import MeshCore

/// Which candidates a node publishes and tries, the path messages' encoding, and records that
/// carry candidates (format 3).
@Suite struct PathCandidateTests {
    static func local(_ text: String) -> PathCandidate { PathCandidate(Endpoint(text)!, kind: .local) }
    static func reflexive(_ text: String) -> PathCandidate { PathCandidate(Endpoint(text)!, kind: .reflexive) }

    @Test func siteLocalAddressesAreTriedOnlyBehindTheSameNAT() {
        let theirs = [
            Self.local("192.168.1.5:51820"), Self.local("[2001:db8:1::5]:51820"), Self.local("[fd00::5]:51820"),
            Self.reflexive("203.0.113.9:40001"),
        ]
        let elsewhere = [Self.local("10.0.0.2:51820"), Self.reflexive("198.51.100.1:51820")]
        #expect(
            PathCandidates.toTry(theirs: theirs, mine: elsewhere).map(\.description) == [
                "[2001:db8:1::5]:51820", "203.0.113.9:40001",
            ])
        let sameNAT = [Self.local("192.168.1.7:51820"), Self.reflexive("203.0.113.9:40002")]
        #expect(
            PathCandidates.toTry(theirs: theirs, mine: sameNAT).map(\.description) == [
                "192.168.1.5:51820", "[fd00::5]:51820", "[2001:db8:1::5]:51820", "203.0.113.9:40001",
            ])
    }

    /// Two laptops behind one NAT may each be seen at the NAT's address with the same port (by
    /// different peers): neither tries what is its own reflexive endpoint too.
    @Test func aCandidateThatIsAlsoOursIsNotTried() {
        let shared = Self.reflexive("203.0.113.9:51820")
        let theirs = [Self.local("192.168.1.5:51820"), shared]
        let mine = [Self.local("192.168.1.7:51820"), shared]
        #expect(PathCandidates.toTry(theirs: theirs, mine: mine).map(\.description) == ["192.168.1.5:51820"])
    }

    @Test func atMostFourAreTriedAndPublicInterfaceAddressesComeLast() {
        let theirs = (1...6).map { Self.local("[2001:db8::\($0)]:51820") } + [Self.local("198.51.100.4:51820")]
        let tried = PathCandidates.toTry(theirs: theirs, mine: [])
        #expect(tried.count == PathCandidate.maxTried)
        let withPublic = [Self.local("198.51.100.4:51820"), Self.reflexive("203.0.113.1:51820")]
        #expect(
            PathCandidates.toTry(theirs: withPublic, mine: []).map(\.description) == [
                "203.0.113.1:51820", "198.51.100.4:51820",
            ])
    }

    @Test func siteLocalCoversPrivateSharedLinkLocalAndUniqueLocal() {
        for text in [
            "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.0.1", "100.64.0.1", "100.127.1.1", "169.254.1.1",
        ] {
            #expect(Endpoint.Host.ipv4(IPv4Address(text)!).isSiteLocal, "\(text)")
        }
        for text in ["8.8.8.8", "172.32.0.1", "100.128.0.1", "192.169.0.1", "11.0.0.1"] {
            #expect(!Endpoint.Host.ipv4(IPv4Address(text)!).isSiteLocal, "\(text)")
        }
        for text in ["fe80::1", "fd12::1", "fc00::1", "::ffff:192.168.1.1"] {
            #expect(Endpoint.Host.ipv6(IPv6Address(text)!).isSiteLocal, "\(text)")
        }
        for text in ["2001:db8::1", "2a00::1", "::ffff:8.8.8.8"] {
            #expect(!Endpoint.Host.ipv6(IPv6Address(text)!).isSiteLocal, "\(text)")
        }
    }

    @Test func ownCandidatesLeaveOutWhatNobodyCouldUse() {
        let overlay = OverlayAddress.meshPrefix(of: Fixtures.mesh1)
        let inside = IPv6Address(bytes: overlay.address.bytes)!
        let own = PathCandidates.own(
            local: [
                Endpoint("127.0.0.1:51820")!, Endpoint("[\(inside)]:51820")!, Endpoint("192.168.1.2:51820")!,
                Endpoint("224.0.0.1:51820")!,
            ],
            reflexive: [Endpoint("203.0.113.1:40000")!, Endpoint("192.168.1.2:51820")!], overlay: overlay)
        #expect(own == [Self.reflexive("203.0.113.1:40000"), Self.reflexive("192.168.1.2:51820")])
    }

    @Test func aNATThatChangesPortsIsToldByItsReflexivePort() {
        #expect(PathCandidates.natChangesPorts([Self.reflexive("203.0.113.1:40000")], listenPort: 51820))
        #expect(!PathCandidates.natChangesPorts([Self.reflexive("203.0.113.1:51820")], listenPort: 51820))
        #expect(!PathCandidates.natChangesPorts([Self.local("192.168.1.2:40000")], listenPort: 51820))
    }

    // MARK: Path messages

    static let messages: [PathMessage] = [
        .whereAmI(nonce: 1), .youAre(nonce: .max, endpoint: Endpoint("203.0.113.1:40000")!),
        .youAre(nonce: 7, endpoint: Endpoint("[2001:db8::1]:51820")!), .punch(attempt: 0, handshook: false),
        .punch(attempt: .max, handshook: true), .probe(nonce: 3), .probeReply(nonce: 1 << 63),
        .relay(to: NodeID(1, 2, 3, 4), frame: Array(repeating: 9, count: PathMessage.maxRelayedFrame)),
    ]

    @Test func pathMessagesRoundTrip() throws {
        for message in Self.messages {
            let bytes = message.encoded()
            #expect(PathMessage.isPathMessage(bytes))
            #expect(try PathMessage.decode(bytes) == message)
            // Every strict prefix is refused, and so is anything after the end.
            for cut in 0..<bytes.count {
                #expect(throws: WireError.self) { try PathMessage.decode(Array(bytes[..<cut])) }
            }
            #expect(throws: WireError.self) { try PathMessage.decode(bytes + [0]) }
        }
    }

    /// Test vectors (docs/protocol.md, "Path messages").
    @Test func pathMessageVectors() {
        #expect(PathMessage.punch(attempt: 2, handshook: true).encoded() == [0x32, 0, 0, 0, 2, 1])
        #expect(PathMessage.probe(nonce: 0x0102).encoded() == [0x33, 0, 0, 0, 0, 0, 0, 1, 2])
        #expect(
            PathMessage.youAre(nonce: 1, endpoint: Endpoint("203.0.113.1:40000")!).encoded() == [
                0x31, 0, 0, 0, 0, 0, 0, 0, 1, 4, 203, 0, 113, 1, 0x9C, 0x40,
            ])
    }

    @Test func malformedPathMessagesAreRefused() {
        #expect(throws: WireError.self) { try PathMessage.decode([0x3F, 0]) }
        #expect(throws: WireError.self) { try PathMessage.decode([0x32, 0, 0, 0, 1, 2]) }
        var relay: [UInt8] = [0x35] + Array(repeating: 1, count: 32)
        relay += [0x01, 0x01] + Array(repeating: 0, count: 257)
        #expect(throws: WireError.self) { try PathMessage.decode(relay) }
        #expect(
            !PathMessage.isPathMessage([0x20]) && !PathMessage.isPathMessage([0x40]) && !PathMessage.isPathMessage([]))
    }

    /// Bytes of every kind decode or are refused, never trap.
    @Test func randomBytesNeverTrap() {
        var rng = IPAddressDifferentialTests.SplitMix(state: 31)
        for _ in 0..<20_000 {
            let count = Int(rng.next() % 64)
            var bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if !bytes.isEmpty { bytes[0] = 0x30 + UInt8(rng.next() % 7) }
            _ = try? PathMessage.decode(bytes)
        }
    }

    // MARK: Records with candidates

    static func record(candidates: [PathCandidate], admission: [UInt8]? = nil) -> NodeRecord {
        var record = Fixtures.record(Fixtures.identity1, mesh: Fixtures.mesh1)
        record.candidates = candidates
        record.admission = admission
        return record
    }

    @Test func recordsCarryCandidatesInFormatThreeOnly() throws {
        let candidates = [Self.reflexive("203.0.113.1:40000"), Self.local("192.168.1.2:51820")]
        for admission in [nil, Array(repeating: UInt8(7), count: 40)] as [[UInt8]?] {
            let record = Self.record(candidates: candidates, admission: admission)
            var reader = ByteReader(record.encodedBody())
            #expect(record.encodedBody().first == SignedNodeRecord.candidatesFormat)
            #expect(try NodeRecord.decodeBody(&reader) == record)
            let without = Self.record(candidates: [], admission: admission)
            #expect(without.encodedBody().first == (admission == nil ? 1 : 2), "no candidates, the old formats")
        }
    }

    @Test func formatThreeIsRefusedWhenItBendsItsRules() throws {
        let body = Self.record(candidates: [Self.local("192.168.1.2:51820")]).encodedBody()
        // The candidate count sits right after the routes; find it from the end: count (1) ‖
        // kind (1) ‖ endpoint (7) ‖ admission flag (1).
        let count = body.count - 10
        #expect(body[count] == 1)
        for (offset, value, why) in [
            (count, UInt8(0), "empty list"), (count + 1, 2, "unknown kind"), (body.count - 1, 2, "flag"),
        ] {
            var bent = body
            bent[offset] = value
            var reader = ByteReader(bent)
            #expect(throws: WireError.self, "\(why)") {
                _ = try NodeRecord.decodeBody(&reader); try reader.finish()
            }
        }
    }

    @Test func candidatesFollowTheEndpointRules() {
        let loopback = Self.record(candidates: [Self.local("127.0.0.1:51820")])
        #expect(throws: RecordRejection.self) { try loopback.validateContent(in: Fixtures.mesh1, policy: .default) }
        let twice = Self.record(candidates: [Self.local("192.168.1.2:51820"), Self.reflexive("192.168.1.2:51820")])
        #expect(throws: RecordRejection.self) { try twice.validateContent(in: Fixtures.mesh1, policy: .default) }
        let many = Self.record(candidates: (1...9).map { Self.local("192.168.1.\($0):51820") })
        #expect(throws: RecordRejection.self) { try many.validateContent(in: Fixtures.mesh1, policy: .default) }
        let fine = Self.record(candidates: [Self.local("192.168.1.2:51820"), Self.reflexive("203.0.113.1:1")])
        #expect(throws: Never.self) { try fine.validateContent(in: Fixtures.mesh1, policy: .default) }
    }
}
