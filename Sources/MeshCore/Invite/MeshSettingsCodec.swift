public enum MeshSettingsLimits {
    /// Keeps a token's policy field under its 255-byte limit (18 bytes per IPv6 prefix).
    public static let maxAllowedPrefixes = 12
}

/// The optional settings section of an invite token: `tag (1) ‖ length ‖ value` fields in
/// ascending tag order, each at most once, until the checksum. The length is 1 byte, 2 for the
/// charter.
///
/// - tag 1, name: a DNS label.
/// - tag 2, route policy: `flags (1: bit 0 exit nodes, bit 1 bridged meshes) ‖ count (1) ‖
///   prefix × count`.
/// - tag 3, mesh charter: `length (2) ‖ charter` (`MeshCharter`), the owner's signature over
///   tags 1, 2 and 4. Only a token carries it; the settings a charter signs cannot hold another.
/// - tag 4, IPv4 prefix: `prefix` (family 4, a length from 8 to 28), the mesh's IPv4 overlay
///   network. Only a charter signs it: it is fixed at `create`, because moving it would
///   renumber every member (docs/addressing.md, "IPv4 overlay addresses").
///
/// Unknown tags are refused rather than skipped: a member that ignored a policy it cannot read
/// would disagree with the others about which records are valid.
enum MeshSettingsCodec {
    struct Settings {
        var name: String?
        var policy = RoutePolicy.default
        var ipv4Prefix: IPPrefix?
        /// Undecoded: only the mesh id, read before the settings, says what it must commit to.
        var charter: [UInt8]?
    }

    static let nameTag: UInt8 = 1
    static let policyTag: UInt8 = 2
    static let charterTag: UInt8 = 3
    static let ipv4PrefixTag: UInt8 = 4
    /// The IPv4 prefix lengths a mesh may use: /8 is larger than any mesh, and a /28 still holds
    /// 14 members.
    static let ipv4PrefixLengths = 8...28
    static let maxCharterLength = 1023
    static let maxAllowedPrefixes = MeshSettingsLimits.maxAllowedPrefixes

    static func write(name: String?, policy: RoutePolicy, ipv4Prefix: IPPrefix? = nil, to writer: inout ByteWriter) {
        if let name {
            writer.writeU8(nameTag)
            writer.writeString(name, limit: 63, field: "name")
        }
        if policy != .default {
            var field = ByteWriter(capacity: 64)
            field.writeU8((policy.allowExitNodes ? 1 : 0) | (policy.allowBridgedMeshes ? 2 : 0))
            field.writeCount(policy.allowedPrefixes.count, limit: maxAllowedPrefixes)
            for prefix in policy.allowedPrefixes { field.writePrefix(prefix) }
            writer.writeU8(policyTag)
            writer.writeLengthPrefixed(field.bytes, limit: 255, field: "policy")
        }
        if let ipv4Prefix {
            writer.writeU8(ipv4PrefixTag)
            writer.writePrefix(ipv4Prefix)
        }
    }

    /// Whether `prefix` can be a mesh's IPv4 network.
    static func isValidIPv4Prefix(_ prefix: IPPrefix) -> Bool {
        guard case .v4 = prefix.address else { return false }
        return ipv4PrefixLengths.contains(prefix.length)
    }

    static func write(charter: MeshCharter, to writer: inout ByteWriter) {
        writer.writeU8(charterTag)
        writer.writeLengthPrefixed(charter.bytes, limit: maxCharterLength, field: "charter")
    }

    static func read(from reader: inout ByteReader, allowCharter: Bool) throws(WireError) -> Settings {
        var settings = Settings()
        var lastTag: UInt8 = 0
        while !reader.isAtEnd {
            let tag = try reader.readU8("setting")
            guard tag > lastTag else { throw .invalid(field: "setting", reason: "tag \(tag) repeated or out of order") }
            lastTag = tag
            switch tag {
            case nameTag:
                let name = try reader.readString("name", limit: 63)
                guard DNSName.isValidLabel(Array(name.utf8)) else {
                    throw .invalid(field: "name", reason: "not a DNS label")
                }
                settings.name = name
            case policyTag:
                var field = ByteReader(try reader.readLengthPrefixed("policy", limit: 255)[...])
                let flags = try field.readU8("policy flags")
                guard flags & ~3 == 0 else { throw .invalid(field: "policy flags", reason: "unknown flags \(flags)") }
                let count = try field.readCount("allowed prefixes", limit: maxAllowedPrefixes, minimumElementSize: 6)
                var prefixes: [IPPrefix] = []
                for _ in 0..<count { prefixes.append(try field.readPrefix("allowed prefix")) }
                try field.finish()
                settings.policy = RoutePolicy(
                    allowExitNodes: flags & 1 != 0, allowBridgedMeshes: flags & 2 != 0, allowedPrefixes: prefixes)
            case ipv4PrefixTag:
                let prefix = try reader.readPrefix("IPv4 prefix")
                guard isValidIPv4Prefix(prefix) else {
                    throw .invalid(field: "IPv4 prefix", reason: "\(prefix) is not an IPv4 prefix from /8 to /28")
                }
                settings.ipv4Prefix = prefix
            case charterTag where allowCharter:
                settings.charter = try reader.readLengthPrefixed("charter", limit: maxCharterLength)
            case charterTag:
                throw .invalid(field: "setting", reason: "a charter cannot sign another charter")
            default:
                throw .invalid(field: "setting", reason: "unknown tag \(tag) (a newer smegmesh made this token)")
            }
        }
        return settings
    }
}
