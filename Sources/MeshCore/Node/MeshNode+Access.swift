import GossipCRDT

/// Access control on this node: the policy and tags in force (what enforcement reads), and
/// signing new ones when this node is an owner and its operator asks. Both come from the owner
/// ledger alone, so every member holding the same statements computes the same answers.
extension MeshNode {
    /// The policy in force: the newest an owner signed, or `everyoneReachesEveryone` when none
    /// was (or the mesh has no owners).
    public var currentAccessPolicy: AccessPolicy {
        gossip.ledger?.accessPolicy?.value.policy ?? .everyoneReachesEveryone
    }

    /// The tags owners gave `member`, sorted; none when it was never tagged.
    public func tags(of member: NodeID) -> [AccessTag] {
        gossip.ledger?.tags[member]?.value.tags ?? []
    }

    /// `member` as the policy sees it.
    public func accessMember(_ member: NodeID) -> AccessMember {
        AccessMember(id: member, tags: tags(of: member))
    }

    /// Every present member that is not evicted, this node included, as the policy sees them,
    /// in node id order: what `AccessPolicy.inbound(to:from:)` takes.
    public var accessMembers: [AccessMember] {
        liveMembers.map { accessMember($0.owner) }.sorted { $0.id < $1.id }
    }

    /// Whether this node and `member` may have a WireGuard session at all under the policy in
    /// force: false means every flow between them, either way, is denied.
    public func mayConnect(with member: NodeID) -> Bool {
        currentAccessPolicy.mayConnect(accessMember(identity.nodeID), accessMember(member))
    }

    /// What this node accepts on its mesh interface from each present member (new flows; replies
    /// to its own are not listed), in node id order; members it accepts nothing from are left out.
    public var accessInbound: [AccessInbound] {
        currentAccessPolicy.inbound(to: accessMember(identity.nodeID), from: accessMembers)
    }

    // MARK: Deciding as an owner

    /// Replaces the access policy with the one `text` says (`AccessPolicyText`), members
    /// resolved here. Nothing is signed when the text has an error, or says what is in force.
    public mutating func setAccessPolicy(
        _ text: String, wallMillis: UInt64, now: Instant
    ) throws(OwnerActionError) -> [Effect] {
        let ledger = try ownLedger()
        let policy: AccessPolicy
        do {
            policy = try AccessPolicyText.parse(text).resolve { name in try resolve(name, allowUnknownKey: true) }
        } catch {
            throw .invalidAccessPolicy(error)
        }
        if ledger.accessPolicy?.value.policy == policy { return [] }
        let version = (ledger.accessPolicy?.value.version ?? 0).adding(saturating: 1)
        // Never nil: a parsed policy is never the default.
        guard let update = AccessPolicyUpdate(version: version, policy: policy) else { return [] }
        return issue([.accessPolicy(update)], wallMillis: wallMillis, now: now)
    }

    /// Gives `member` the tags in `adding` and takes those in `removing` away (one statement
    /// with its whole new set). Nothing is signed when the set stays the same.
    public mutating func changeTags(
        of member: String, adding: [AccessTag], removing: [AccessTag], wallMillis: UInt64, now: Instant
    ) throws(OwnerActionError) -> [Effect] {
        let ledger = try ownLedger()
        let id = try resolve(member, allowUnknownKey: true)
        let current = ledger.tags[id]
        let before = Set(current?.value.tags ?? [])
        let after = before.subtracting(removing).union(adding)
        guard after != before else { return [] }
        let version = (current?.value.version ?? 0).adding(saturating: 1)
        guard let assignment = TagAssignment(member: id, version: version, tags: after) else {
            throw .tooManyTags(gossip.describe(id), after.count)
        }
        return issue([.tags(assignment)], wallMillis: wallMillis, now: now)
    }

    /// The policy and tags `removed` (an owner about to be removed or evicted) signed, signed
    /// again by this node with the next versions: once it no longer counts its statements do
    /// not either, and a mesh must not fall back to "everyone reaches everyone", nor members
    /// lose their tags, because an owner left. Admissions are kept the same way.
    func resignedAccess(of removed: SigningPublicKey, ledger: OwnerLedger) -> [OwnerStatement.Decision] {
        var decisions: [OwnerStatement.Decision] = []
        if let current = ledger.accessPolicy, current.issuer == removed,
            let again = AccessPolicyUpdate(
                version: current.value.version.adding(saturating: 1), policy: current.value.policy)
        {
            decisions.append(.accessPolicy(again))
        }
        for (member, signed) in ledger.tags.sorted(by: { $0.key < $1.key }) where signed.issuer == removed {
            let version = signed.value.version.adding(saturating: 1)
            if let again = TagAssignment(member: member, version: version, tags: signed.value.tags) {
                decisions.append(.tags(again))
            }
        }
        return decisions
    }

    // MARK: Views

    /// `GET .../acl`: the policy in force as text, who signed it, and the tagged members.
    public func accessPolicyView() -> AccessPolicyView {
        let signed = gossip.ledger?.accessPolicy
        let policy = currentAccessPolicy
        let names = aliasTable()
        let tagged = (gossip.ledger?.tags ?? [:]).filter { !$0.value.value.tags.isEmpty }.keys.sorted()
        return AccessPolicyView(
            meshId: mesh.text, isDefault: policy.isDefault,
            text: policy.isDefault ? "" : AccessPolicyText.render(policy, names: { names.alias(of: $0) }),
            rules: policy.isDefault ? 0 : policy.rules.count, version: signed?.value.version,
            signedBy: signed.map { describe(owner: $0.issuer) }, signedAtMillis: signed?.issuedAt,
            tagged: tagged.map { tagsView(of: $0, names: names) }, isOwner: isOwner)
    }

    /// The tags of the member `name` names, as owners' verbs resolve members.
    public func memberTags(_ name: String) throws(OwnerActionError) -> MemberTagsView {
        tagsView(of: try resolve(name, allowUnknownKey: true), names: aliasTable())
    }

    func tagsView(of member: NodeID, names: AliasTable) -> MemberTagsView {
        MemberTagsView(
            id: WireGuardPublicKey(nodeID: member).base64, shortId: AliasTable.shortID(of: member),
            alias: names.alias(of: member), tags: tags(of: member).map(\.name),
            version: gossip.ledger?.tags[member]?.value.version)
    }

    /// `POST .../acl/check`: whether `from` may open the flow to `to`, and what decided it.
    public func checkAccess(
        from: String, to: String, protocol proto: AccessProtocol?, port: UInt16?
    ) throws(OwnerActionError) -> AccessCheckResponse {
        let source = try member(named: from).key.nodeID
        let destination = try member(named: to).key.nodeID
        let policy = currentAccessPolicy
        let (a, b) = (accessMember(source), accessMember(destination))
        let decision = policy.decision(from: a, to: b, protocol: proto, port: port)
        let names = aliasTable()
        var number: Int?
        var rule: String?
        let reason: String
        switch decision.reason {
        case .noPolicy: reason = "no-policy"
        case .sameMember: reason = "same-member"
        case .noRuleAllows: reason = "no-rule"
        case .rule(let index, let allowing):
            reason = "rule"
            number = index + 1
            rule = AccessPolicyText.render(allowing, names: { names.alias(of: $0) })
        }
        let flow =
            switch (proto, port) {
            case (nil, _): "any traffic"
            case (let proto?, nil): proto.hasPorts ? "\(proto) (some port)" : "\(proto)"
            case (let proto?, let port?): "\(proto)/\(port)"
            }
        return AccessCheckResponse(
            meshId: mesh.text, from: tagsView(of: source, names: names), to: tagsView(of: destination, names: names),
            flow: flow,
            allowed: decision.isAllowed, reason: reason, ruleNumber: number, rule: rule,
            forward: policy.traffic(from: a, to: b).description, reverse: policy.traffic(from: b, to: a).description,
            session: policy.mayConnect(a, b))
    }
}
