/// Control-API bodies of access control (docs/api.md, "Access control"; docs/acl.md).

/// `GET /v1/meshes/M/acl`: the policy in force and every member's tags.
public struct AccessPolicyView: Codable, Sendable, Equatable {
    public var meshId: String
    /// True while no owner has signed a policy: everyone reaches everyone.
    public var isDefault: Bool
    /// The rules in the text format, one per line (empty for the default), members as keys
    /// with their aliases in comments: a file `acl set` reads back to the same policy.
    public var text: String
    public var rules: Int
    public var version: UInt64?
    /// The signing owner: alias and short id, or its key.
    public var signedBy: String?
    /// Milliseconds since 1970, by the owner's clock.
    public var signedAtMillis: UInt64?
    /// Members that carry tags, in key order.
    public var tagged: [MemberTagsView]
    public var isOwner: Bool

    public init(
        meshId: String, isDefault: Bool, text: String, rules: Int, version: UInt64?, signedBy: String?,
        signedAtMillis: UInt64?, tagged: [MemberTagsView], isOwner: Bool
    ) {
        self.meshId = meshId
        self.isDefault = isDefault
        self.text = text
        self.rules = rules
        self.version = version
        self.signedBy = signedBy
        self.signedAtMillis = signedAtMillis
        self.tagged = tagged
        self.isOwner = isOwner
    }
}

/// One member and the tags owners gave it.
public struct MemberTagsView: Codable, Sendable, Equatable {
    /// WireGuard key, base64.
    public var id: String
    public var shortId: String
    public var alias: String?
    public var tags: [String]
    /// The tagging statement's version for this member.
    public var version: UInt64?

    public init(id: String, shortId: String, alias: String?, tags: [String], version: UInt64? = nil) {
        self.id = id
        self.shortId = shortId
        self.alias = alias
        self.tags = tags
        self.version = version
    }
}

/// `PUT /v1/meshes/M/acl`: a new policy in the text format (owners). Errors name the line.
public struct AccessPolicyRequest: Codable, Sendable, Equatable {
    /// The largest policy text accepted (`AccessPolicyText` enforces it), here so that smegctl
    /// refuses a larger file before reading all of it.
    public static let maxTextBytes = 48 * 1024

    public var text: String
    public init(text: String) { self.text = text }
}

/// `POST /v1/meshes/M/acl/tags/MEMBER`: tags to give and to take away (owners).
public struct TagChangeRequest: Codable, Sendable, Equatable {
    public var add: [String]?
    public var remove: [String]?

    public init(add: [String]? = nil, remove: [String]? = nil) {
        self.add = add
        self.remove = remove
    }

    /// The tags, checked: what the daemon acts on, and what smegctl checks before sending.
    public func parsed() throws(AccessRequestError) -> (add: [AccessTag], remove: [AccessTag]) {
        func tags(_ names: [String]?) throws(AccessRequestError) -> [AccessTag] {
            var tags: [AccessTag] = []
            for name in names ?? [] {
                guard let tag = AccessTag(name.hasPrefix("tag:") ? String(name.dropFirst(4)) : name) else {
                    throw .badTag(name)
                }
                tags.append(tag)
            }
            return tags
        }
        let parsed = (add: try tags(add), remove: try tags(remove))
        guard !parsed.add.isEmpty || !parsed.remove.isEmpty else { throw .noTags }
        return parsed
    }
}

/// `POST /v1/meshes/M/acl/check`: may FROM open this flow to TO? Members as `smegctl get`
/// names them (alias, short id, key, overlay address).
public struct AccessCheckRequest: Codable, Sendable, Equatable {
    public var from: String
    public var to: String
    /// "tcp", "udp" or "icmp"; absent: tcp when a port is given, else any protocol.
    public var `protocol`: String?
    public var port: Int?

    public init(from: String, to: String, protocol proto: String? = nil, port: Int? = nil) {
        self.from = from
        self.to = to
        self.protocol = proto
        self.port = port
    }

    /// The flow asked about, checked.
    public func flow() throws(AccessRequestError) -> (protocol: AccessProtocol?, port: UInt16?) {
        var proto: AccessProtocol?
        if let name = self.protocol {
            guard let known = AccessProtocol(name: name) else { throw .badProtocol(name) }
            proto = known
        }
        guard let port else { return (proto, nil) }
        guard (1...65535).contains(port) else { throw .badPort(port) }
        let asked = proto ?? .tcp
        guard asked.hasPorts else { throw .portWithICMP }
        return (asked, UInt16(port))
    }
}

public struct AccessCheckResponse: Codable, Sendable, Equatable {
    public var meshId: String
    public var from: MemberTagsView
    public var to: MemberTagsView
    /// The flow asked about: "tcp/22", "udp", "any traffic".
    public var flow: String
    public var allowed: Bool
    /// "no-policy", "same-member", "rule" or "no-rule".
    public var reason: String
    /// The deciding rule, 1-based as `smegctl acl` lists them, and its text.
    public var ruleNumber: Int?
    public var rule: String?
    /// Everything FROM may open to TO, and TO to FROM, in the format's words ("nothing", or
    /// "" for every protocol and port).
    public var forward: String
    public var reverse: String
    /// Whether the pair may have a WireGuard session at all.
    public var session: Bool

    public init(
        meshId: String, from: MemberTagsView, to: MemberTagsView, flow: String, allowed: Bool, reason: String,
        ruleNumber: Int?, rule: String?, forward: String, reverse: String, session: Bool
    ) {
        self.meshId = meshId
        self.from = from
        self.to = to
        self.flow = flow
        self.allowed = allowed
        self.reason = reason
        self.ruleNumber = ruleNumber
        self.rule = rule
        self.forward = forward
        self.reverse = reverse
        self.session = session
    }
}

/// Why an access-control request is malformed: a 400 from the daemon, a usage error in smegctl.
public enum AccessRequestError: Error, Equatable, Sendable, CustomStringConvertible {
    case badTag(String)
    case noTags
    case badProtocol(String)
    case badPort(Int)
    case portWithICMP

    public var description: String {
        switch self {
        case .badTag(let name):
            "'\(name)' is not a tag: 1 to \(AccessTag.maxLength) of a-z, 0-9 and '-', not starting with '-'"
        case .noTags: "name at least one tag"
        case .badProtocol(let name): "unknown protocol '\(name)'; use tcp, udp or icmp"
        case .badPort(let port): "port \(port) is not a port from 1 to 65535"
        case .portWithICMP: "icmp has no ports; leave the port out"
        }
    }
}
