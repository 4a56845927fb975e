import GossipCRDT

/// Every owner statement of one mesh that this node holds, and what they decide together: who
/// the owners are, who is evicted, which invites are revoked.
///
/// The set only grows, so merging two ledgers is a union, which is commutative, associative and
/// idempotent; the decisions are a pure function of the set (never of the order statements
/// arrived in), so two members holding the same statements agree on every decision.
///
/// Who wins a conflict between owners is decided by seniority, not by the statements' clocks:
/// the founder (the owner key the mesh id commits to) is the most senior, then owners by their
/// distance from the founder in grants, then by key. Owners are settled in that order, and an
/// owner's statements bind only owners junior to it. So a stolen junior owner key cannot
/// remove or evict a senior owner, however it backdates, and the senior owner can always undo
/// it by removing the thief (which also voids the thief's grants and later-processed
/// decisions). The price: nobody can remove the founder, whose key is the mesh's root.
///
/// A statement is stored only when its issuer is an owner by some chain of grants from the
/// founder in what this node holds ("ever an owner"); that set only grows, so every member
/// eventually stores the same statements, and strangers cannot fill the ledger.
public struct OwnerLedger: Sendable, Equatable {
    /// Enough for years of evictions and owner changes; statements beyond are refused.
    public static let maxStatements = 1024

    public struct Eviction: Hashable, Sendable {
        public let by: SigningPublicKey
        /// The issuer's clock, milliseconds since 1970.
        public let at: UInt64
    }

    public enum Insertion: Equatable, Sendable {
        case added
        case known
        /// Its issuer is not an owner by any grant this ledger holds (yet).
        case notAnOwner
        case full
    }

    public let mesh: MeshID
    public let founder: SigningPublicKey
    /// Statements by id.
    public private(set) var statements: [[UInt8]: OwnerStatement] = [:]
    /// The owners, most senior first.
    public private(set) var owners: [SigningPublicKey]
    public private(set) var evicted: [NodeID: Eviction] = [:]
    public private(set) var revokedInvites: Set<InviteID> = []
    /// Admissions the ledger itself holds (upgrades, re-admissions), by member key.
    public private(set) var admitted: [SigningPublicKey: Admission] = [:]
    /// The IPv4 addresses the ledger's admissions by current owners name (`IPv4Assignment`).
    public private(set) var addressClaims: [IPv4Assignment.Claim] = []
    /// Whether an owner has said that records need an admission.
    public private(set) var requiresAdmissions = false
    /// The newest rotation an owner made (highest generation, then id): the secret members use.
    public private(set) var rotation: OwnerStatement?
    /// The newest settings an owner signed (highest version, then id); nil: the charter's.
    public private(set) var settings: SettingsUpdate?
    /// The newest tags of each member an owner tagged (per member: highest version, then id).
    public private(set) var tags: [NodeID: OwnerSigned<TagAssignment>] = [:]
    /// The newest access policy an owner signed (highest version, then id); nil: none was
    /// signed, and everyone reaches everyone.
    public private(set) var accessPolicy: OwnerSigned<AccessPolicyUpdate>?

    /// The generation of the current secret (0: the one made at `create`) and its commitment.
    public var secretGeneration: (number: UInt64, commitment: [UInt8])? {
        guard let rotation, case .rotate(let generation, let commitment) = rotation.decision else { return nil }
        return (generation, commitment)
    }
    /// A hash of the sorted statement ids: two ledgers with equal summaries hold the same set.
    public private(set) var summary: UInt64
    private var everOwners: Set<SigningPublicKey>

    public init(mesh: MeshID, founder: SigningPublicKey) {
        self.mesh = mesh
        self.founder = founder
        self.owners = [founder]
        self.everOwners = [founder]
        self.summary = Self.summarise([])
    }

    public var count: Int { statements.count }

    public func isOwner(_ key: SigningPublicKey) -> Bool { owners.contains(key) }

    public func isEvicted(_ member: NodeID) -> Bool { evicted[member] != nil }

    /// Whether the holder of `key` may be a member in `role`: admissions are not required
    /// yet (nor `required` by the caller), it is an owner, or the ledger admits it, or `carried` (the admission its record carries, already
    /// verified for this mesh) is signed by a current owner. An evicted member is refused by
    /// its node id, separately.
    public func admits(
        _ key: SigningPublicKey, as role: NodeRecord.Role, carried: OwnerStatement?, required: Bool = false
    ) -> Bool {
        guard requiresAdmissions || required else { return true }
        // Owners are members by being owners (the founder's key is known from the mesh id alone).
        if isOwner(key) { return true }
        var admission = admitted[key]
        if admission == nil, let carried, case .admit(let grant) = carried.decision, grant.member == key,
            isOwner(carried.issuer)
        {
            admission = grant
        }
        guard let admission else { return false }
        return admission.role == .member || role == .client
    }

    /// Statements in id order: a canonical order for persisting and sending.
    public var sorted: [OwnerStatement] {
        statements.values.sorted { $0.id.lexicographicallyPrecedes($1.id) }
    }

    /// Adds a verified statement of this mesh; the decisions are recomputed when it is new.
    @discardableResult
    public mutating func insert(_ statement: OwnerStatement) -> Insertion {
        guard statements[statement.id] == nil else { return .known }
        guard everOwners.contains(statement.issuer) else { return .notAnOwner }
        guard statements.count < Self.maxStatements else { return .full }
        statements[statement.id] = statement
        settle()
        return .added
    }

    /// Inserts several, retrying the ones whose issuer became an owner through another of
    /// them (a grant that arrived in the same batch, in any order). Returns those added.
    @discardableResult
    public mutating func merge(_ incoming: [OwnerStatement]) -> [OwnerStatement] {
        var added: [OwnerStatement] = []
        var waiting = incoming
        while true {
            var next: [OwnerStatement] = []
            for statement in waiting {
                switch insert(statement) {
                case .added: added.append(statement)
                case .notAnOwner: next.append(statement)
                case .known, .full: break
                }
            }
            if next.count == waiting.count { break }
            waiting = next
        }
        return added
    }

    // MARK: Deciding

    /// Recomputes every decision from the set (see the type's comment for the rules).
    private mutating func settle() {
        var grants: [SigningPublicKey: [SigningPublicKey]] = [:]
        var byIssuer: [SigningPublicKey: [OwnerStatement]] = [:]
        for statement in statements.values {
            byIssuer[statement.issuer, default: []].append(statement)
            if case .addOwner(let subject) = statement.decision {
                grants[statement.issuer, default: []].append(subject)
            }
        }
        // Ever an owner: reachable from the founder through grants, whatever was removed. It
        // only grows with the set, so it decides what is stored.
        var reached: Set<SigningPublicKey> = [founder]
        var frontier = [founder]
        while let granter = frontier.popLast() {
            for subject in grants[granter] ?? [] where reached.insert(subject).inserted { frontier.append(subject) }
        }
        everOwners = reached
        let ownerByNode = Dictionary(
            reached.compactMap { key in key.derivedWireGuardKey.map { ($0.nodeID, key) } },
            uniquingKeysWith: { a, b in a.bytes.lexicographicallyPrecedes(b.bytes) ? a : b })

        // Settle owners most senior first, the way Dijkstra settles nodes: seniority is the
        // distance from the founder through grants of owners already settled (removed owners'
        // grants never count), then the key. Decisions bind only owners not yet settled.
        var candidates: [SigningPublicKey: Int] = [founder: 0]
        var processed: Set<SigningPublicKey> = []
        var settled: [SigningPublicKey] = []
        var settledSet: Set<SigningPublicKey> = []
        var removed: Set<SigningPublicKey> = []
        var evictions: [NodeID: (Eviction, [UInt8])] = [:]
        var revoked: Set<InviteID> = []
        var admissions: [SigningPublicKey: Admission] = [:]
        var claims: [IPv4Assignment.Claim] = []
        var required = false
        var newest: (generation: UInt64, statement: OwnerStatement)?
        var newestSettings: (update: SettingsUpdate, id: [UInt8])?
        var newestTags: [NodeID: OwnerSigned<TagAssignment>] = [:]
        var newestAccess: OwnerSigned<AccessPolicyUpdate>?
        while let (owner, depth) = candidates.min(by: {
            $0.value != $1.value ? $0.value < $1.value : $0.key.bytes.lexicographicallyPrecedes($1.key.bytes)
        }) {
            candidates[owner] = nil
            processed.insert(owner)
            guard !removed.contains(owner) else { continue }
            settled.append(owner)
            settledSet.insert(owner)
            // Canonical order inside one owner's statements, so ties resolve the same everywhere.
            for statement in (byIssuer[owner] ?? []).sorted(by: { $0.id.lexicographicallyPrecedes($1.id) }) {
                switch statement.decision {
                case .addOwner(let subject):
                    guard !processed.contains(subject) else { continue }
                    candidates[subject] = min(candidates[subject] ?? Int.max, depth + 1)
                case .removeOwner(let subject):
                    if !processed.contains(subject) { removed.insert(subject) }
                case .evict(let member):
                    if let ownerKey = ownerByNode[member] {
                        // An owner's node: only a junior one (or one no longer an owner), whose
                        // ownership goes with it.
                        guard !settledSet.contains(ownerKey) else { continue }
                        removed.insert(ownerKey)
                    }
                    let eviction = Eviction(by: owner, at: statement.issuedAt)
                    if let current = evictions[member], !statement.id.lexicographicallyPrecedes(current.1) { continue }
                    evictions[member] = (eviction, statement.id)
                case .revokeInvite(let invite):
                    revoked.insert(invite)
                case .admit(let admission):
                    if let claim = IPv4Assignment.Claim(statement) { claims.append(claim) }
                    // The most permissive role wins when two owners admitted one key.
                    if let known = admissions[admission.member], known.role == .member { continue }
                    admissions[admission.member] = admission
                case .requireAdmissions:
                    required = true
                case .rotate(let generation, _):
                    guard Self.replaces(generation, statement.id, newest.map { ($0.generation, $0.statement.id) })
                    else { continue }
                    newest = (generation, statement)
                case .settings(let update):
                    guard Self.replaces(update.version, statement.id, newestSettings.map { ($0.update.version, $0.id) })
                    else { continue }
                    newestSettings = (update, statement.id)
                case .tags(let assignment):
                    let current = newestTags[assignment.member].map { ($0.value.version, $0.id) }
                    guard Self.replaces(assignment.version, statement.id, current) else { continue }
                    newestTags[assignment.member] = OwnerSigned(assignment, statement)
                case .accessPolicy(let update):
                    guard Self.replaces(update.version, statement.id, newestAccess.map { ($0.value.version, $0.id) })
                    else { continue }
                    newestAccess = OwnerSigned(update, statement)
                }
            }
        }
        owners = settled
        evicted = evictions.mapValues(\.0)
        revokedInvites = revoked
        admitted = admissions
        addressClaims = claims
        requiresAdmissions = required
        rotation = newest?.statement
        settings = newestSettings?.update
        tags = newestTags
        accessPolicy = newestAccess
        summary = Self.summarise(statements.keys.sorted { $0.lexicographicallyPrecedes($1) })
    }

    /// Whether a versioned decision (its version and statement id) replaces `current`: a
    /// higher version, or the same version with the smaller id, so ties resolve everywhere alike.
    static func replaces(_ version: UInt64, _ id: [UInt8], _ current: (version: UInt64, id: [UInt8])?) -> Bool {
        guard let current else { return true }
        return version > current.version || (version == current.version && id.lexicographicallyPrecedes(current.id))
    }

    static func summarise(_ sortedIDs: [[UInt8]]) -> UInt64 {
        let digest = Sodium.blake2b([Array("smegmesh/v2/ledger-summary".utf8) + [0]] + sortedIDs, outputLength: 16)
            .prefix(8)
        return digest.reduce(0) { $0 << 8 | UInt64($1) }
    }
}

/// A versioned decision with the statement that made it: who signed it and when, as
/// `smegctl acl` shows them.
public struct OwnerSigned<Value: Hashable & Sendable>: Hashable, Sendable {
    public let value: Value
    public let issuer: SigningPublicKey
    /// Milliseconds since 1970, by the issuer's clock.
    public let issuedAt: UInt64
    let id: [UInt8]

    init(_ value: Value, _ statement: OwnerStatement) {
        self.value = value
        self.issuer = statement.issuer
        self.issuedAt = statement.issuedAt
        self.id = statement.id
    }
}
