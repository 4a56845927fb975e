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

/// `POST /v1/meshes/M/invites`: a new invitation, issued by this node as an owner.
public struct CreateInviteRequest: Codable, Sendable, Equatable {
    /// Seconds it stays valid (default a day, at most a year).
    public var expiresSeconds: Int?
    /// How many nodes may redeem it (default 1, at most 1000).
    public var uses: Int?
    /// "member" (default: peer or client as the joiner chooses) or "client" (clients only).
    public var role: String?
    /// Whoever redeems it also becomes an owner.
    public var owner: Bool?

    public init(expiresSeconds: Int? = nil, uses: Int? = nil, role: String? = nil, owner: Bool? = nil) {
        self.expiresSeconds = expiresSeconds
        self.uses = uses
        self.role = role
        self.owner = owner
    }
}

public struct InviteView: Codable, Sendable, Equatable {
    public var id: String
    public var issuedAtMillis: UInt64
    public var expiresAtMillis: UInt64
    public var uses: Int
    public var usesLeft: Int
    public var role: String
    public var makesOwner: Bool
    /// "valid", "used up", "expired" or "revoked".
    public var state: String

    public init(
        id: String, issuedAtMillis: UInt64, expiresAtMillis: UInt64, uses: Int, usesLeft: Int, role: String,
        makesOwner: Bool, state: String
    ) {
        self.id = id
        self.issuedAtMillis = issuedAtMillis
        self.expiresAtMillis = expiresAtMillis
        self.uses = uses
        self.usesLeft = usesLeft
        self.role = role
        self.makesOwner = makesOwner
        self.state = state
    }
}

public struct InvitesResponse: Codable, Sendable, Equatable {
    public var meshId: String
    public var invites: [InviteView]

    public init(meshId: String, invites: [InviteView]) {
        self.meshId = meshId
        self.invites = invites
    }
}

/// `PUT /v1/meshes/M/settings`: the mesh's name and route policy from now on (owners).
public struct SettingsRequest: Codable, Sendable, Equatable {
    /// Nil or absent: the mesh has no name.
    public var name: String?
    public var policy: RoutePolicyView?

    public init(name: String?, policy: RoutePolicyView?) {
        self.name = name
        self.policy = policy
    }
}
