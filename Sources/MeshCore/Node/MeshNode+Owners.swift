import GossipCRDT

/// Owners' decisions on this node: acting on statements as they arrive, and making them when
/// this node is an owner and its operator asks.
extension MeshNode {
    public var ledger: OwnerLedger? { gossip.ledger }

    /// Whether this node's identity is one of the mesh's owners now.
    public var isOwner: Bool { gossip.ledger?.isOwner(identity.signingKey) ?? false }

    /// The record rules as the ledger and this node's own admission make them now.
    var currentValidator: MeshRecordValidator {
        MeshRecordValidator(
            mesh: mesh, policy: policy, endpoints: settings.endpointPolicy, ledger: gossip.ledger,
            requiresAdmissions: persisted.admission != nil, me: identity.nodeID)
    }

    /// The admission this node's record carries: the one its invite's issuer granted.
    var ownAdmission: [UInt8]? {
        persisted.admission.flatMap(Base64.decodeAnyLength)
    }

    /// The founder makes a mesh require admissions: at `create`, and when it first runs a
    /// version with admissions in a mesh made before them. It admits, in the ledger, itself and
    /// every member it knows of (present or pruned), then requires admissions, so nobody who
    /// is a member now is shut out; a node that joins later needs an invitation.
    mutating func adoptAdmissions(now: Instant, wallMillis: UInt64) -> [Effect] {
        guard adoptsAdmissions, let ledger = gossip.ledger, !ledger.requiresAdmissions,
            charter?.owner == identity.signingKey
        else {
            return []
        }
        var decisions: [OwnerStatement.Decision] = []
        // In a mesh with an IPv4 prefix each admission names a free address (`IPv4Allocation`).
        var taken = claimedIPv4Addresses
        func admit(_ key: SigningPublicKey) {
            let address = ipv4Prefix.flatMap {
                IPv4Allocation.allocate(mesh: mesh, member: key, prefix: $0, taken: taken)
            }
            if let address { taken.insert(address) }
            decisions.append(.admit(Admission(member: key, role: .member, invite: nil, ipv4: address)))
        }
        if ledger.admitted[identity.signingKey] == nil { admit(identity.signingKey) }
        for (id, record) in records.sorted(by: { $0.key < $1.key })
        where id != identity.nodeID && ledger.admitted[record.signingKey] == nil && !ledger.isEvicted(id) {
            admit(record.signingKey)
        }
        let others = decisions.count - 1
        decisions.append(.requireAdmissions)
        let note: Effect =
            others > 0
            ? .log(.notice, "admitting the \(others) members this node knows and requiring admissions from now on")
            : .log(.info, "this mesh requires admissions: members join with invitations from owners")
        return [note] + issue(decisions, wallMillis: wallMillis, now: now)
    }

    // MARK: Acting on the ledger

    /// New statements are in the ledger: every rule that depends on it follows at once
    /// (records and frames of evicted members refused, their WireGuard peers removed at the
    /// next reconcile), the ledger is saved, and an eviction of this node ends the mesh here.
    mutating func ledgerChanged(_ added: [OwnerStatement], now: Instant) -> [Effect] {
        guard let ledger = gossip.ledger else { return [] }
        var effects: [Effect] = []
        for statement in added {
            let issuer = describe(owner: statement.issuer)
            let entitled = ledger.isOwner(statement.issuer) ? "" : " (not counted: no longer an owner)"
            switch statement.decision {
            case .addOwner(let key):
                effects.append(.log(.notice, "owner \(issuer) made \(describe(owner: key)) an owner\(entitled)"))
            case .removeOwner(let key):
                effects.append(.log(.notice, "owner \(issuer) removed owner \(describe(owner: key))\(entitled)"))
            case .evict(let member):
                effects.append(.log(.notice, "owner \(issuer) evicted \(gossip.describe(member))\(entitled)"))
            case .revokeInvite(let invite):
                effects.append(.log(.notice, "owner \(issuer) revoked invite \(invite)\(entitled)"))
            case .admit(let admission):
                effects.append(.log(.info, "owner \(issuer) admitted \(describe(owner: admission.member))\(entitled)"))
            case .requireAdmissions:
                effects.append(.log(.notice, "owner \(issuer) requires admissions from now on\(entitled)"))
            case .settings(let update):
                effects.append(
                    .log(
                        .notice,
                        "owner \(issuer) set the mesh's settings (version \(update.version)): name \(update.name ?? "none"), "
                            + "exits \(update.policy.allowExitNodes ? "allowed" : "refused")\(entitled)"))
            case .rotate(let generation, _):
                effects.append(
                    .log(.notice, "owner \(issuer) rotated the mesh secret to generation \(generation)\(entitled)"))
            case .tags(let assignment):
                let tags = assignment.tags.isEmpty ? "no tags" : assignment.tags.map(\.name).joined(separator: ", ")
                effects.append(
                    .log(
                        .notice,
                        "owner \(issuer) tagged \(gossip.describe(assignment.member)) with \(tags) "
                            + "(version \(assignment.version))\(entitled)"))
            case .accessPolicy(let update):
                effects.append(
                    .log(
                        .notice,
                        "owner \(issuer) set the access policy (version \(update.version), "
                            + "\(update.policy.rules.count) rules)\(entitled)"))
            }
        }
        validator = currentValidator
        gossip.replaceValidator(validator)
        persistDue = now
        reconcileDue = now
        effects.append(.routesChanged)
        if added.contains(where: { if case .settings = $0.decision { true } else { false } }) {
            // The routes this node may publish follow the policy.
            effects += publishOwnRecord(now: now, failure: "cannot republish under the new route policy")
        }
        if eviction == nil, let evicted = ledger.evicted[identity.nodeID] {
            let gone = Eviction(by: describe(owner: evicted.by), at: evicted.at)
            eviction = gone
            effects.append(.log(.warning, "this node was evicted from the mesh by owner \(gone.by); tearing it down"))
            effects.append(.evicted(gone))
        }
        return effects
    }

    /// An owner as the log and `status` name it: alias and short id when it is a member here.
    func describe(owner key: SigningPublicKey) -> String {
        guard let node = key.derivedWireGuardKey?.nodeID else { return key.base64 }
        return gossip.describe(node)
    }

    /// Statements saved with the membership, re-verified; called before the membership is
    /// restored so that records of evicted members stay out.
    mutating func restoreLedger(_ saved: [String]?) -> Int {
        guard gossip.ledger != nil, let saved else { return 0 }
        var refused = 0
        var statements: [OwnerStatement] = []
        for text in saved.prefix(OwnerLedger.maxStatements) {
            guard
                let bytes = Base64.decodeAnyLength(text),
                let statement = try? OwnerStatement(bytes: bytes, mesh: mesh)
            else {
                refused += 1
                continue
            }
            statements.append(statement)
        }
        gossip.ledger!.merge(statements)
        if let ledger = gossip.ledger, ledger.count > 0 {
            validator = currentValidator
            gossip.replaceValidator(validator)
        }
        if let evicted = gossip.ledger?.evicted[identity.nodeID] {
            eviction = Eviction(by: describe(owner: evicted.by), at: evicted.at)
        }
        return refused + max(0, saved.count - OwnerLedger.maxStatements)
    }

    // MARK: Deciding as an owner

    /// Evicts `member` (an alias, a key or a unique start of one) for good.
    public mutating func evict(_ member: String, wallMillis: UInt64, now: Instant) throws(OwnerActionError) -> [Effect]
    {
        let ledger = try ownLedger()
        let id = try resolve(member, allowUnknownKey: true)
        guard id != identity.nodeID else { throw .cannotActOnSelf("evict") }
        guard !ledger.isEvicted(id) else { throw .alreadyEvicted(gossip.describe(id)) }
        var decisions: [OwnerStatement.Decision] = [.evict(id)]
        if let ownerKey = ledger.owners.first(where: { $0.derivedWireGuardKey?.nodeID == id }) {
            try checkJunior(ownerKey, ledger: ledger)
            decisions += resignedAccess(of: ownerKey, ledger: ledger)
        }
        // A multi-use invite that admitted it must not let it back in under a new key.
        if let bytes = records[id]?.admission, let admission = try? records[id]?.verifiedAdmission(bytes, in: mesh),
            case .admit(let grant) = admission.decision, let invite = grant.invite,
            !ledger.revokedInvites.contains(invite)
        {
            decisions.append(.revokeInvite(invite))
        }
        // The evicted node holds the secret: every remaining member gets a new one.
        return issue(decisions, wallMillis: wallMillis, now: now) + rotate(wallMillis: wallMillis, now: now)
    }

    public mutating func addOwner(
        _ member: String, wallMillis: UInt64, now: Instant
    ) throws(OwnerActionError) -> [Effect] {
        let ledger = try ownLedger()
        let id = try resolve(member, allowUnknownKey: false)
        guard let record = records[id], engine.store.isPresent(id) else { throw .unknownMember(member) }
        guard !ledger.isOwner(record.signingKey) else { throw .alreadyOwner(gossip.describe(id)) }
        guard !ledger.isEvicted(id) else { throw .alreadyEvicted(gossip.describe(id)) }
        return issue([.addOwner(record.signingKey)], wallMillis: wallMillis, now: now)
    }

    public mutating func removeOwner(
        _ member: String, wallMillis: UInt64, now: Instant
    ) throws(OwnerActionError) -> [Effect] {
        let ledger = try ownLedger()
        let id = try resolve(member, allowUnknownKey: true)
        guard let ownerKey = ledger.owners.first(where: { $0.derivedWireGuardKey?.nodeID == id }) else {
            throw .notAnOwnerMember(gossip.describe(id))
        }
        guard id != identity.nodeID else { throw .cannotActOnSelf("remove as owner") }
        try checkJunior(ownerKey, ledger: ledger)
        // Members it admitted stay members: this owner admits them again, in the ledger.
        var decisions: [OwnerStatement.Decision] = [.removeOwner(ownerKey)]
        for (_, record) in records.sorted(by: { $0.key < $1.key }) {
            guard let bytes = record.admission, let admission = try? record.verifiedAdmission(bytes, in: mesh),
                admission.issuer == ownerKey, case .admit(let grant) = admission.decision,
                ledger.admitted[grant.member] == nil
            else { continue }
            decisions.append(.admit(grant))
        }
        decisions += resignedAccess(of: ownerKey, ledger: ledger)
        return issue(decisions, wallMillis: wallMillis, now: now)
    }

    /// New settings for the mesh (name and route policy), replacing the charter's or the last
    /// owner's: every member applies the newest version.
    public mutating func changeSettings(
        name: String?, policy newPolicy: RoutePolicy, wallMillis: UInt64, now: Instant
    ) throws(OwnerActionError) -> [Effect] {
        let ledger = try ownLedger()
        let version = (ledger.settings?.version ?? 0).adding(saturating: 1)
        guard let update = SettingsUpdate(version: version, name: name, policy: newPolicy) else {
            throw .invalidSettings
        }
        return issue([.settings(update)], wallMillis: wallMillis, now: now)
    }

    mutating func issue(_ decisions: [OwnerStatement.Decision], wallMillis: UInt64, now: Instant) -> [Effect] {
        let statements = decisions.map { OwnerStatement.sign($0, by: identity, at: wallMillis, mesh: mesh) }
        return perform(gossip.issue(statements), now: now) + handleEvents(now: now)
    }

    func ownLedger() throws(OwnerActionError) -> OwnerLedger {
        guard let ledger = gossip.ledger else { throw .noOwners(mesh) }
        guard ledger.isOwner(identity.signingKey) else {
            throw .notAnOwner(mesh, owners: ledger.owners.map(describe(owner:)))
        }
        return ledger
    }

    /// Owners bind only owners junior to them (`OwnerLedger`), so refuse what would not count.
    private func checkJunior(_ key: SigningPublicKey, ledger: OwnerLedger) throws(OwnerActionError) {
        guard let theirs = ledger.owners.firstIndex(of: key),
            let mine = ledger.owners.firstIndex(of: identity.signingKey)
        else { return }
        if theirs < mine { throw .seniorOwner(describe(owner: key)) }
    }

    /// A member by alias, full base64 key, or a start of its key (base64 or short id) that
    /// only one known member has.
    func resolve(_ name: String, allowUnknownKey: Bool) throws(OwnerActionError) -> NodeID {
        if let key = WireGuardPublicKey(base64: name) {
            let id = key.nodeID
            guard allowUnknownKey || records[id] != nil else { throw .unknownMember(name) }
            return id
        }
        let byAlias = records.filter { !$0.value.alias.isEmpty && $0.value.alias == name }.map(\.key)
        if byAlias.count == 1 { return byAlias[0] }
        guard name.count >= 4 else { throw .unknownMember(name) }
        let byKey = records.keys.filter {
            WireGuardPublicKey(nodeID: $0).base64.hasPrefix(name) || "\($0)".hasPrefix(name.lowercased())
        }
        if byKey.count == 1 { return byKey[0] }
        if byKey.count > 1 || byAlias.count > 1 { throw .ambiguousMember(name) }
        throw .unknownMember(name)
    }
}

/// Why an owner action was refused, in words that say what to do.
public enum OwnerActionError: Error, Equatable, Sendable, CustomStringConvertible {
    case noOwners(MeshID)
    case notAnOwner(MeshID, owners: [String])
    case unknownMember(String)
    case ambiguousMember(String)
    case cannotActOnSelf(String)
    case alreadyEvicted(String)
    case alreadyOwner(String)
    case notAnOwnerMember(String)
    case seniorOwner(String)
    case invalidSettings
    case invalidAccessPolicy(AccessPolicyTextErrors)
    case tooManyTags(String, Int)

    public var description: String {
        switch self {
        case .noOwners(let mesh):
            "mesh \(mesh) was made before owners existed and has none; create a new mesh to get owners"
        case .notAnOwner(let mesh, let owners):
            "this node is not an owner of mesh \(mesh); run this on an owner (\(owners.joined(separator: ", ")))"
        case .unknownMember(let name):
            "no member '\(name)' is known here; `smegctl get MESH` lists members (use an alias, or the key)"
        case .ambiguousMember(let name):
            "'\(name)' matches several members; give more of the key, or the whole key"
        case .cannotActOnSelf(let action): "an owner cannot \(action) its own node; run this on another owner"
        case .alreadyEvicted(let who): "\(who) is already evicted"
        case .alreadyOwner(let who): "\(who) is already an owner"
        case .notAnOwnerMember(let who): "\(who) is not an owner"
        case .invalidAccessPolicy(let errors): "\(errors)"
        case .tooManyTags(let who, let count):
            "\(who) would carry \(count) tags; a member carries at most \(TagAssignment.maxTags)"
        case .invalidSettings:
            "the name must be a DNS label and the policy at most \(MeshSettingsLimits.maxAllowedPrefixes) prefixes"
        case .seniorOwner(let who):
            "\(who) is a more senior owner than this node, so this node's decision would not count; "
                + "ask that owner or a more senior one"
        }
    }
}
