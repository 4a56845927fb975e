import GossipCRDT

/// The canonical binary form of an access policy, what an owner signs (docs/protocol.md,
/// "Access policy"):
///
/// ```
/// policy   = format (1, = 01) ‖ rule count (2, 0…256) ‖ rule × count
/// rule     = from (selector) ‖ to (selector) ‖ protocol count (1, 0…3) ‖ protocol × count
///            (no protocols: every IP protocol on every port)
/// selector = 00 (any member) | 01 ‖ length (1, 1…32) ‖ tag | 02 ‖ member node id (32)
/// protocol = 01 (icmp) | 06 (tcp) ‖ ports | 11 (udp) ‖ ports, ascending, each at most once
/// ports    = range count (1, 0…32) ‖ (first (2) ‖ last (2)) × count  (none: every port)
///            1 ≤ first ≤ last, ascending, at least one port apart; never the one range 1–65535
/// ```
///
/// One policy has exactly one encoding: the decoder refuses every other form (unsorted or
/// repeated protocols, overlapping or touching ranges, a full range written out, bad tags),
/// so no two byte strings sign the same decision and nothing hides in a signature.
enum AccessPolicyCodec {
    static let format: UInt8 = 1

    enum SelectorType: UInt8 {
        case any = 0, tag = 1, member = 2
    }

    static func encode(_ rules: [AccessRule]) -> [UInt8] {
        var writer = ByteWriter(capacity: 3 + rules.count * 16)
        writer.writeU8(format)
        writer.writeU16(UInt16(clamping: rules.count))
        for rule in rules {
            write(rule.from, to: &writer)
            write(rule.to, to: &writer)
            write(rule.traffic, to: &writer)
        }
        return writer.bytes
    }

    /// What one rule of `rule` encodes to; the parser adds these up to stay within the limit.
    static func size(of rule: AccessRule) -> Int {
        var writer = ByteWriter()
        write(rule.from, to: &writer)
        write(rule.to, to: &writer)
        write(rule.traffic, to: &writer)
        return writer.bytes.count
    }

    /// The size of a policy with no rules: the format and the count.
    static let headerSize = 3

    static func decode(_ bytes: [UInt8]) throws(WireError) -> [AccessRule] {
        var reader = ByteReader(bytes)
        let format = try reader.readU8("access policy format")
        guard format == Self.format else {
            throw .invalid(
                field: "access policy format", reason: "format \(format) is unknown (a newer smegmesh made it)")
        }
        let count = try reader.readCount("rules", limit: AccessPolicy.maxRules, minimumElementSize: 3)
        var rules: [AccessRule] = []
        rules.reserveCapacity(count)
        for _ in 0..<count {
            let from = try readSelector(&reader)
            let to = try readSelector(&reader)
            let traffic = try readTraffic(&reader)
            guard let rule = AccessRule(from: from, to: to, traffic: traffic) else {
                throw .invalid(field: "rule", reason: "more than \(AccessPolicy.maxPortRangesPerRule) port ranges")
            }
            rules.append(rule)
        }
        try reader.finish()
        return rules
    }

    private static func write(_ selector: AccessSelector, to writer: inout ByteWriter) {
        switch selector {
        case .anyMember: writer.writeU8(SelectorType.any.rawValue)
        case .tag(let tag):
            writer.writeU8(SelectorType.tag.rawValue)
            writer.writeString(tag.name, limit: AccessTag.maxLength, field: "tag")
        case .member(let id):
            writer.writeU8(SelectorType.member.rawValue)
            writer.writeBytes(id.bytes)
        }
    }

    private static func write(_ traffic: AccessTraffic, to writer: inout ByteWriter) {
        guard !traffic.anyProtocol else { return writer.writeU8(0) }
        let present = AccessProtocol.allCases.filter { !traffic.ports(of: $0).isEmpty }
        writer.writeU8(UInt8(present.count))
        for proto in present {
            writer.writeU8(proto.rawValue)
            guard proto.hasPorts else { continue }
            let ports = traffic.ports(of: proto)
            let ranges = ports.isAll ? [] : ports.ranges
            writer.writeU8(UInt8(clamping: ranges.count))
            for range in ranges {
                writer.writeU16(range.lowerBound)
                writer.writeU16(range.upperBound)
            }
        }
    }

    private static func readSelector(_ reader: inout ByteReader) throws(WireError) -> AccessSelector {
        let type = try reader.readU8("selector")
        switch SelectorType(rawValue: type) {
        case .any: return .anyMember
        case .tag:
            let bytes = try reader.readLengthPrefixed("tag", limit: AccessTag.maxLength)
            guard AccessTag.isValid(bytes), let tag = AccessTag(String(decoding: bytes, as: UTF8.self)) else {
                throw .invalid(field: "tag", reason: "not 1 to 32 of a-z, 0-9 and '-'")
            }
            return .tag(tag)
        case .member: return .member(NodeID(bytes: try reader.readBytes(32, "member"))!)
        case nil: throw .invalid(field: "selector", reason: "unknown selector type \(type)")
        }
    }

    private static func readTraffic(_ reader: inout ByteReader) throws(WireError) -> AccessTraffic {
        let count = try reader.readU8("protocol count")
        guard count > 0 else { return .everything }
        guard count <= AccessProtocol.allCases.count else {
            throw .tooLarge(field: "protocols", length: Int(count), limit: AccessProtocol.allCases.count)
        }
        var icmp = false
        var tcp = PortSet.none
        var udp = PortSet.none
        var last: UInt8 = 0
        for _ in 0..<count {
            let byte = try reader.readU8("protocol")
            guard let proto = AccessProtocol(rawValue: byte) else {
                throw .invalid(field: "protocol", reason: "unknown protocol \(byte)")
            }
            guard byte > last else { throw .invalid(field: "protocols", reason: "not in strictly ascending order") }
            last = byte
            switch proto {
            case .icmp: icmp = true
            case .tcp: tcp = try readPorts(&reader)
            case .udp: udp = try readPorts(&reader)
            }
        }
        return AccessTraffic(icmp: icmp, tcp: tcp, udp: udp)
    }

    private static func readPorts(_ reader: inout ByteReader) throws(WireError) -> PortSet {
        let count = try reader.readCount("port ranges", limit: AccessPolicy.maxPortRangesPerRule, minimumElementSize: 4)
        guard count > 0 else { return .all }
        var ranges: [ClosedRange<UInt16>] = []
        for _ in 0..<count {
            let first = try reader.readU16("first port")
            let last = try reader.readU16("last port")
            guard first >= 1, first <= last else {
                throw .invalid(field: "port range", reason: "\(first)-\(last) is not a range of ports 1 to 65535")
            }
            if let previous = ranges.last, Int(first) <= Int(previous.upperBound) + 1 {
                throw .invalid(field: "port ranges", reason: "not ascending and apart")
            }
            ranges.append(first...last)
        }
        let ports = PortSet(ranges)
        guard !ports.isAll else { throw .invalid(field: "port ranges", reason: "every port is written as no range") }
        return ports
    }
}
