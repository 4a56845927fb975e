/// Control-API bodies of owners' decisions (docs/api.md, "Owners").

/// Who evicted a member and when.
public struct EvictionView: Codable, Sendable, Equatable {
    /// The evicting owner: alias and short id, or its key.
    public var by: String
    /// Milliseconds since 1970, by the owner's clock.
    public var atMillis: UInt64

    public init(by: String, atMillis: UInt64) {
        self.by = by
        self.atMillis = atMillis
    }
}

/// A member that is no longer present, and why.
public struct RemovedMemberView: Codable, Sendable, Equatable {
    public var id: String
    public var shortId: String
    public var alias: String?
    /// "evicted", "left" or "pruned".
    public var state: String
    public var evicted: EvictionView?

    public init(id: String, shortId: String, alias: String?, state: String, evicted: EvictionView? = nil) {
        self.id = id
        self.shortId = shortId
        self.alias = alias
        self.state = state
        self.evicted = evicted
    }
}

public struct OwnerView: Codable, Sendable, Equatable {
    /// The owner's signing key, base64.
    public var signingKey: String
    /// Its node's WireGuard key, base64 (how members are named elsewhere).
    public var id: String
    public var shortId: String
    public var alias: String?
    /// 0 for the founder; larger is more junior. An owner's decisions bind only more junior owners.
    public var seniority: Int
    public var isSelf: Bool
    public var isFounder: Bool

    public init(
        signingKey: String, id: String, shortId: String, alias: String?, seniority: Int, isSelf: Bool,
        isFounder: Bool
    ) {
        self.signingKey = signingKey
        self.id = id
        self.shortId = shortId
        self.alias = alias
        self.seniority = seniority
        self.isSelf = isSelf
        self.isFounder = isFounder
    }
}

public struct OwnersResponse: Codable, Sendable, Equatable {
    public var meshId: String
    public var owners: [OwnerView]
    public var isOwner: Bool
    /// Statements in the ledger (owner changes, evictions, revocations).
    public var statements: Int

    public init(meshId: String, owners: [OwnerView], isOwner: Bool, statements: Int) {
        self.meshId = meshId
        self.owners = owners
        self.isOwner = isOwner
        self.statements = statements
    }
}

/// `POST .../evict` and `POST .../owners`: the member an owner acts on (alias, key or a unique
/// start of the key).
public struct MemberRequest: Codable, Sendable, Equatable {
    public var member: String
    public init(member: String) { self.member = member }
}
