import GossipCRDT

/// Which members one side of a rule names.
///
/// A member is named by its node id (its WireGuard key), never by alias: members choose their
/// own aliases, owners sign the policy. The text format accepts an alias or short id and the
/// owner's node resolves it to the key before signing (`AccessPolicyText`).
public enum AccessSelector: Hashable, Sendable {
    case anyMember
    case tag(AccessTag)
    case member(NodeID)

    public func matches(_ member: AccessMember) -> Bool {
        switch self {
        case .anyMember: true
        case .tag(let tag): member.tags.contains(tag)
        case .member(let id): member.id == id
        }
    }
}

/// One `allow` line: members matching `from` may open flows of `traffic` to members matching
/// `to`. Rules are directional: the reverse needs a rule of its own, and replies to an allowed
/// flow need none (conntrack). A rule always allows something.
public struct AccessRule: Hashable, Sendable {
    public let from: AccessSelector
    public let to: AccessSelector
    public let traffic: AccessTraffic

    /// Nil when `traffic` is empty or spends more than `AccessPolicy.maxPortRangesPerRule` ranges.
    public init?(from: AccessSelector, to: AccessSelector, traffic: AccessTraffic = .everything) {
        guard !traffic.isEmpty, traffic.portRangeCount <= AccessPolicy.maxPortRangesPerRule else { return nil }
        self.from = from
        self.to = to
        self.traffic = traffic
    }
}

/// Who may open which flows to whom, as the owners signed it: deny unless a rule allows.
///
/// `everyoneReachesEveryone` stands for "no owner ever signed a policy", which is every mesh's
/// state until an owner runs `smegctl acl set`, so meshes made before access control keep
/// working as they did. It is not the same value as a signed `allow * -> *`, although it
/// decides the same: a decision names the reason (no policy, or the rule).
///
/// Bounds keep the statement that carries a policy small enough for one gossip message and
/// the evaluation cheap: `maxRules` rules, `maxPortRangesPerRule` port ranges per rule, and
/// `maxEncodedBytes` in all (`AccessPolicyCodec`).
public struct AccessPolicy: Hashable, Sendable {
    public static let maxRules = 256
    public static let maxPortRangesPerRule = 32
    public static let maxEncodedBytes = 16_384

    public static let everyoneReachesEveryone = AccessPolicy(default: ())

    public let rules: [AccessRule]
    /// True only for `everyoneReachesEveryone`.
    public let isDefault: Bool
    /// The canonical encoding; empty for the default, which is never encoded.
    public let bytes: [UInt8]

    public init(rules: [AccessRule]) throws(AccessPolicyError) {
        guard rules.count <= Self.maxRules else { throw .tooManyRules(rules.count) }
        let bytes = AccessPolicyCodec.encode(rules)
        guard bytes.count <= Self.maxEncodedBytes else { throw .tooLarge(bytes.count) }
        self.rules = rules
        self.isDefault = false
        self.bytes = bytes
    }

    /// Decodes a canonical encoding (`AccessPolicyCodec`); anything else is refused.
    public init(decoding input: some Collection<UInt8>) throws(WireError) {
        guard input.count <= Self.maxEncodedBytes else {
            throw .tooLarge(field: "access policy", length: input.count, limit: Self.maxEncodedBytes)
        }
        let bytes = Array(input)
        let rules = try AccessPolicyCodec.decode(bytes)
        // The codec checks each rule's form; re-encoding catches anything it let through twice.
        guard AccessPolicyCodec.encode(rules) == bytes else {
            throw .invalid(field: "access policy", reason: "not in canonical form")
        }
        self.rules = rules
        self.isDefault = false
        self.bytes = bytes
    }

    private init(default: Void) {
        rules = [AccessRule(from: .anyMember, to: .anyMember)!]
        isDefault = true
        bytes = []
    }
}

/// Why rules do not make a policy.
public enum AccessPolicyError: Error, Equatable, Sendable, CustomStringConvertible {
    case tooManyRules(Int)
    case tooLarge(Int)

    public var description: String {
        switch self {
        case .tooManyRules(let count): "\(count) rules, more than the \(AccessPolicy.maxRules) a policy may have"
        case .tooLarge(let bytes):
            "the policy encodes to \(bytes) bytes, more than the \(AccessPolicy.maxEncodedBytes) it may take"
        }
    }
}

/// An owner's access policy for the mesh, versioned: every member applies the highest version
/// (ties: the smaller statement id), like the settings.
///
/// ```
/// subject = version (8) ‖ length (2) ‖ policy (canonical, at most 16,384 bytes)
/// ```
public struct AccessPolicyUpdate: Hashable, Sendable {
    public let version: UInt64
    public let policy: AccessPolicy

    /// Nil for the default, which is what no statement means and is never signed.
    public init?(version: UInt64, policy: AccessPolicy) {
        guard !policy.isDefault else { return nil }
        self.version = version
        self.policy = policy
    }

    var subjectBytes: [UInt8] {
        var writer = ByteWriter(capacity: 10 + policy.bytes.count)
        writer.writeU64(version)
        writer.writeLengthPrefixed(policy.bytes, limit: AccessPolicy.maxEncodedBytes, field: "access policy")
        return writer.bytes
    }

    init(reading reader: inout ByteReader) throws(WireError) {
        version = try reader.readU64("access policy version")
        policy = try AccessPolicy(
            decoding: try reader.readLengthPrefixed("access policy", limit: AccessPolicy.maxEncodedBytes))
    }
}
