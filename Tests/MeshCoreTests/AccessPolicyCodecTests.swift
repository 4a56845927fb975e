import GossipCRDT
import Testing

@testable import MeshCore

/// The canonical encodings of access policies and tag assignments: round trips, the bytes of
/// docs/protocol.md's layout, and every other form refused.
@Suite struct AccessPolicyCodecTests {
    static let member = NodeID(bytes: Array(0x40..<0x60))!

    /// `allow tag:laptop -> tag:server tcp/22,443 icmp`, `allow * -> <member> udp/53`,
    /// `allow tag:admin -> *`.
    static var example: AccessPolicy {
        try! AccessPolicy(rules: [
            AccessRule(
                from: .tag(AccessTag("laptop")!), to: .tag(AccessTag("server")!),
                traffic: AccessTraffic(icmp: true, tcp: PortSet([22...22, 443...443])))!,
            AccessRule(from: .anyMember, to: .member(member), traffic: AccessTraffic(udp: PortSet([53...53])))!,
            AccessRule(from: .tag(AccessTag("admin")!), to: .anyMember)!,
        ])
    }

    static let exampleHex =
        "01 0003"
        + " 01 06 6c6170746f70 01 06 736572766572 02 01 06 02 0016 0016 01bb 01bb"
        + " 00 02 404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f 01 11 01 0035 0035"
        + " 01 05 61646d696e 00 00"

    @Test func theExampleEncodesAsDocumented() throws {
        #expect(Self.example.bytes == hexBytes(Self.exampleHex))
        #expect(try AccessPolicy(decoding: Self.example.bytes) == Self.example)
    }

    /// Changes of the example's bytes that keep its length: each must be refused, or decode
    /// to something that encodes back to exactly those bytes (canonical).
    @Test func everyOtherFormIsRefused() throws {
        let base = hexBytes(Self.exampleHex)
        let refused: [(String, [UInt8])] = [
            ("format 2", [0x02] + base.dropFirst()),
            ("one rule more than there are", [0x01, 0x00, 0x04] + base.dropFirst(3)),
            ("trailing byte", base + [0]),
            ("truncated", Array(base.dropLast())),
            ("upper-case tag", replacing(base, at: 5, with: 0x4C)),
            ("unknown selector", replacing(base, at: 3, with: 0x03)),
            ("protocols out of order", swapped(base, protocolsAt: 20)),
            ("unknown protocol", replacing(base, at: 20, with: 0x02)),
            ("port 0", replacing(replacing(base, at: 23, with: 0), at: 24, with: 0)),
        ]
        for (what, bytes) in refused {
            #expect(throws: WireError.self, "\(what)") { try AccessPolicy(decoding: bytes) }
        }
        // Ranges written apart that touch, overlap, are reversed, or cover every port.
        for ranges in [[(22, 22), (23, 30)], [(22, 30), (25, 40)], [(30, 40), (22, 25)], [(40, 30)], [(1, 65535)]] {
            var bytes = hexBytes("01 0001 00 00 01 06") + [UInt8(ranges.count)]
            for (first, last) in ranges {
                bytes += [UInt8(first >> 8), UInt8(first & 0xFF), UInt8(last >> 8), UInt8(last & 0xFF)]
            }
            #expect(throws: WireError.self, "\(ranges)") { try AccessPolicy(decoding: bytes) }
        }
        // Every protocol listed with every port is not "no protocols": it decodes, as itself.
        let three = hexBytes("01 0001 00 00 03 01 06 00 11 00")
        let decoded = try AccessPolicy(decoding: three)
        #expect(decoded.rules[0].traffic == AccessTraffic(icmp: true, tcp: .all, udp: .all))
        #expect(decoded.rules[0].traffic != .everything)
        #expect(decoded.bytes == three)
        #expect(throws: WireError.self) { try AccessPolicy(decoding: [UInt8](repeating: 0, count: 20_000)) }
    }

    func replacing(_ bytes: [UInt8], at index: Int, with byte: UInt8) -> [UInt8] {
        var copy = bytes
        copy[index] = byte
        return copy
    }

    /// The first rule lists tcp (06, its ports) then icmp (01) instead of icmp then tcp.
    func swapped(_ bytes: [UInt8], protocolsAt index: Int) -> [UInt8] {
        let tcp = Array(bytes[(index + 1)..<(index + 11)])
        return Array(bytes[..<index]) + tcp + [0x01] + Array(bytes[(index + 11)...])
    }

    /// `count` ports apart from each other: 1, 3, 5...
    func singles(_ count: Int) -> PortSet {
        PortSet(
            (0..<count).map { (index: Int) -> ClosedRange<UInt16> in
                let port = UInt16(index * 2 + 1)
                return port...port
            })
    }

    @Test func aRuleAllowsSomethingWithinItsPortBudget() {
        #expect(AccessRule(from: .anyMember, to: .anyMember, traffic: .nothing) == nil)
        let many = singles(33)
        #expect(AccessRule(from: .anyMember, to: .anyMember, traffic: AccessTraffic(tcp: many)) == nil)
        #expect(AccessRule(from: .anyMember, to: .anyMember, traffic: AccessTraffic(tcp: many, udp: .all)) == nil)
        let half = singles(16)
        #expect(AccessRule(from: .anyMember, to: .anyMember, traffic: AccessTraffic(tcp: half, udp: half)) != nil)
        #expect(throws: AccessPolicyError.tooManyRules(257)) {
            try AccessPolicy(rules: Array(repeating: AccessRule(from: .anyMember, to: .anyMember)!, count: 257))
        }
    }

    @Test func portSetsHaveOneForm() {
        #expect(PortSet([443...443, 22...22, 23...30, 0...0]).ranges == [22...30, 443...443])
        #expect(PortSet([0...10]).ranges == [1...10])
        #expect(PortSet([1...65535]).isAll && PortSet([1...100, 101...65535]).isAll)
        #expect(PortSet([65535...65535, 65534...65535]).ranges == [65534...65535])
        #expect(PortSet([1...3]).union(PortSet([4...9])) == PortSet([1...9]))
    }

    @Test func tagAssignmentsAreCanonical() throws {
        let assignment = try #require(
            TagAssignment(member: Self.member, version: 3, tags: [AccessTag("server")!, AccessTag("dns")!]))
        #expect(assignment.tags.map(\.name) == ["dns", "server"])
        let bytes = assignment.subjectBytes
        #expect(bytes == Self.member.bytes + hexBytes("0000000000000003 02 03 646e73 06 736572766572"))
        var reader = ByteReader(bytes)
        #expect(try TagAssignment(reading: &reader) == assignment)
        let unsorted = Self.member.bytes + hexBytes("0000000000000003 02 06 736572766572 03 646e73")
        let repeated = Self.member.bytes + hexBytes("0000000000000003 02 03 646e73 03 646e73")
        let bad = Self.member.bytes + hexBytes("0000000000000003 01 03 444e53")
        let many =
            Self.member.bytes + hexBytes("0000000000000003 09")
            + Array(repeating: [0x01, 0x61], count: 9).flatMap(\.self)
        for bytes in [unsorted, repeated, bad, many] {
            var reader = ByteReader(bytes)
            #expect(throws: WireError.self) { try TagAssignment(reading: &reader) }
        }
        let nine = (0..<9).map { AccessTag("t\($0)")! }
        #expect(TagAssignment(member: Self.member, version: 1, tags: nine) == nil)
        #expect(TagAssignment(member: Self.member, version: 1, tags: Array(nine.prefix(8)) + nine.prefix(8)) != nil)
    }

    @Test func tagNames() {
        for good in ["a", "laptop", "db-1", "0", String(repeating: "x", count: 32)] { #expect(AccessTag(good) != nil) }
        for bad in ["", "-a", "Laptop", "a_b", "a b", "é", String(repeating: "x", count: 33), "tag:x"] {
            #expect(AccessTag(bad) == nil, "\(bad)")
        }
    }
}
