import GossipCRDT
import Testing

@testable import MeshCore

/// Which endpoints a record may carry, over whole address ranges rather than a few examples: a
/// hostile member picks the one address a table of examples forgot.
@Suite struct EndpointPolicyTests {
    static let mesh = Fixtures.mesh1
    static let overlay = OverlayAddress.meshPrefix(of: mesh)

    /// The IPv4 rules restated from the first octet, independently of `EndpointRefusal.classify`.
    static func expected(_ address: IPv4Address) -> EndpointRefusal? {
        let octets = address.bytes
        switch octets[0] {
        case 0: return address.value == 0 ? .unspecified : .thisNetwork
        case 127: return .loopback
        case 224...239: return .multicast
        case 240...255: return address.value == UInt32.max ? .broadcast : .reserved
        default: return nil
        }
    }

    static func endpoint(_ address: IPv4Address, port: UInt16 = 51820) -> Endpoint {
        Endpoint(host: .ipv4(address), port: port)!
    }

    static func endpoint(_ address: IPv6Address, port: UInt16 = 51820) -> Endpoint {
        Endpoint(host: .ipv6(address), port: port)!
    }

    static func mapped(_ address: IPv4Address) -> IPv6Address {
        IPv6Address(high: 0, low: 0xFFFF_0000_0000 | UInt64(address.value))
    }

    static func compatible(_ address: IPv4Address) -> IPv6Address {
        IPv6Address(high: 0, low: UInt64(address.value))
    }

    @Test func everyFirstOctetFollowsTheIPv4Rules() {
        var rng = SplitMix64(seed: 1)
        for first in 0...255 {
            var samples = [IPv4Address(UInt32(first) << 24), IPv4Address(UInt32(first) << 24 | 0x00FF_FFFF)]
            for _ in 0..<200 {
                samples.append(IPv4Address(UInt32(first) << 24 | UInt32(truncatingIfNeeded: rng.next()) & 0x00FF_FFFF))
            }
            for address in samples {
                let want = Self.expected(address)
                #expect(EndpointRefusal.classify(address) == want, "\(address)")
                #expect(EndpointPolicy.strict.refusal(of: Self.endpoint(address), in: Self.mesh) == want)
            }
        }
    }

    @Test func mappedAndCompatibleFormsInheritTheIPv4Verdict() {
        var rng = SplitMix64(seed: 2)
        for _ in 0..<20_000 {
            let address = IPv4Address(UInt32(truncatingIfNeeded: rng.next()))
            let want = Self.expected(address)
            #expect(EndpointRefusal.classify(Self.mapped(address)) == want, "\(Self.mapped(address))")
            // `::` and `::1` are themselves compatible-form addresses, with IPv6 names for the refusal.
            let compatibleWant: EndpointRefusal? =
                switch address.value {
                case 0: .unspecified
                case 1: .loopback
                default: want
                }
            #expect(EndpointRefusal.classify(Self.compatible(address)) == compatibleWant)
        }
        #expect(EndpointRefusal.classify(IPv6Address("::ffff:127.0.0.1")!) == .loopback)
        #expect(EndpointRefusal.classify(IPv6Address("::ffff:255.255.255.255")!) == .broadcast)
        #expect(EndpointRefusal.classify(IPv6Address("::ffff:192.168.1.10")!) == nil)
    }

    @Test func privateLinkLocalAndSharedRangesAreKept() {
        let ranges: [(base: UInt32, bits: Int)] = [
            (0x0A00_0000, 8), (0xAC10_0000, 12), (0xC0A8_0000, 16), (0xA9FE_0000, 16), (0x6440_0000, 10),
        ]
        var rng = SplitMix64(seed: 3)
        for (base, bits) in ranges {
            for _ in 0..<2_000 {
                let host = UInt32(truncatingIfNeeded: rng.next()) & (UInt32.max >> bits)
                let address = IPv4Address(base | host)
                #expect(EndpointPolicy.strict.refusal(of: Self.endpoint(address), in: Self.mesh) == nil, "\(address)")
            }
        }
        for _ in 0..<2_000 {
            let linkLocal = IPv6Address(high: 0xFE80 << 48 | rng.next() >> 10 & 0x003F_FFFF_FFFF_FFFF, low: rng.next())
            let ula = IPv6Address(high: 0xFC00 << 48 | rng.next() >> 7, low: rng.next())
            let global = IPv6Address(high: 0x2000 << 48 | rng.next() >> 3, low: rng.next())
            for address in [linkLocal, ula, global] where !Self.overlay.contains(.v6(address)) {
                #expect(EndpointPolicy.strict.refusal(of: Self.endpoint(address), in: Self.mesh) == nil, "\(address)")
            }
        }
    }

    @Test func ipv6MulticastAndTheMeshOverlayAreRefused() {
        guard case .v6(let base) = Self.overlay.address else { Issue.record("overlay is not IPv6"); return }
        var rng = SplitMix64(seed: 4)
        for _ in 0..<5_000 {
            let multicast = IPv6Address(high: 0xFF << 56 | rng.next() >> 8, low: rng.next())
            #expect(EndpointPolicy.strict.refusal(of: Self.endpoint(multicast), in: Self.mesh) == .multicast)
            let member = IPv6Address(high: base.high, low: rng.next())
            #expect(EndpointPolicy.strict.refusal(of: Self.endpoint(member), in: Self.mesh) == .meshOverlay)
            #expect(EndpointPolicy.loopbackLab.refusal(of: Self.endpoint(member), in: Self.mesh) == .meshOverlay)
            // The same interface id under another mesh's prefix is an ordinary ULA.
            #expect(EndpointPolicy.strict.refusal(of: Self.endpoint(member), in: Fixtures.mesh2) == nil)
        }
        #expect(EndpointRefusal.classify(IPv6Address.any) == .unspecified)
        #expect(EndpointRefusal.classify(IPv6Address("::1")!) == .loopback)
    }

    /// The lab variant differs from the strict one on loopback and nowhere else.
    @Test func theLabVariantAcceptsLoopbackOnly() {
        var rng = SplitMix64(seed: 5)
        var endpoints: [Endpoint] = [
            Self.endpoint(IPv6Address("::1")!), Self.endpoint(Self.mapped(IPv4Address(127, 9, 9, 9))),
        ]
        for _ in 0..<20_000 {
            let v4 = IPv4Address(UInt32(truncatingIfNeeded: rng.next()))
            endpoints += [Self.endpoint(v4), Self.endpoint(Self.mapped(v4))]
            endpoints.append(Self.endpoint(IPv6Address(high: rng.next(), low: rng.next())))
        }
        endpoints.append(Endpoint("vpn.example.com:51820")!)
        for endpoint in endpoints {
            let strict = EndpointPolicy.strict.refusal(of: endpoint, in: Self.mesh)
            let lab = EndpointPolicy.loopbackLab.refusal(of: endpoint, in: Self.mesh)
            #expect(lab == (strict == .loopback ? nil : strict), "\(endpoint)")
        }
        #expect(EndpointPolicy.loopbackLab.refusal(of: Endpoint("127.0.0.1:1")!, in: Self.mesh) == nil)
    }

    @Test func namesAndPortZeroNeverPass() {
        #expect(EndpointPolicy.loopbackLab.refusal(of: Endpoint("vpn.example.com:1")!, overlay: nil) == .name)
        #expect(Endpoint(host: .ipv4(IPv4Address(1, 2, 3, 4)), port: 0) == nil)
        for refusal in EndpointRefusal.allCases { #expect(!refusal.description.isEmpty) }
    }
}

/// The endpoint rules as receivers apply them: a whole record is refused, with its reason, and
/// counted as invalid by the store.
@Suite struct EndpointRecordTests {
    /// Signed by hand, as a hostile member would: `SignedNodeRecord.sign` refuses some of these.
    func member(endpoints: [Endpoint]) -> MemberRecord {
        var record = Fixtures.record()
        record.endpoints = endpoints
        let body = record.encodedBody()
        let signature = Fixtures.identity1.sign(SignedNodeRecord.signedMessage(body: body[...], mesh: Fixtures.mesh1))
        return MemberRecord(owner: Fixtures.identity1.nodeID, version: record.version, payload: body + signature)
    }

    @Test func loopbackIsRefusedByTheStrictValidatorAndKeptByTheLab() {
        let loopback = Endpoint("127.0.0.1:51820")!
        let record = member(endpoints: [Endpoint("203.0.113.7:51820")!, loopback])
        let strict = MeshRecordValidator(mesh: Fixtures.mesh1)
        #expect(throws: RecordRejection.refusedEndpoint(loopback, .loopback)) {
            try strict.validate(record, current: nil)
        }
        #expect(!strict.accept(record))
        #expect(MeshRecordValidator(mesh: Fixtures.mesh1, endpoints: .loopbackLab).accept(record))

        var store = MemberStore()
        var rejections = RejectionCounts()
        _ = store.merge(Updates(records: [record]), validator: strict, rejections: &rejections)
        #expect(store.count == 0)
        #expect(rejections[.invalid] == 1)
    }

    @Test func anOverlayEndpointIsRefusedEvenInTheLab() {
        let inside = Endpoint(host: .ipv6(Fixtures.identity2.address(in: Fixtures.mesh1)), port: 51820)!
        let record = member(endpoints: [inside])
        let lab = MeshRecordValidator(mesh: Fixtures.mesh1, endpoints: .loopbackLab)
        #expect(throws: RecordRejection.refusedEndpoint(inside, .meshOverlay)) {
            try lab.validate(record, current: nil)
        }
        #expect(
            RecordRejection.refusedEndpoint(inside, .meshOverlay).description.contains("inside the mesh's own overlay"))
    }

    @Test func signingRefusesWhatNoReceiverAccepts() {
        for text in ["0.1.2.3:1", "240.0.0.1:1", "[::ffff:0.0.0.0]:1", "[ff05::2]:1"] {
            var record = Fixtures.record()
            record.endpoints = [Endpoint(text)!]
            #expect(throws: RecordRejection.self, "\(text)") {
                try SignedNodeRecord.sign(record, identity: Fixtures.identity1, mesh: Fixtures.mesh1)
            }
        }
    }
}
