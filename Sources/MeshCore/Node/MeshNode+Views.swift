import GossipCRDT

/// What the control API shows of a mesh, as of `now`.
extension MeshNode {
    public func summary() -> MeshSummary {
        MeshSummary(
            meshId: mesh.text, name: name, interface: interfaceName,
            address: "\(identity.address(in: mesh))", prefix: "\(OverlayAddress.meshPrefix(of: mesh))",
            role: options.role.description, members: engine.store.presentCount, leader: engine.leader.map { "\($0)" },
            isLeader: engine.isLeader, policy: policy == .default ? nil : RoutePolicyView(policy),
            bridge: persisted.options.bridge, settingsSigned: persisted.charter != nil,
            owner: charter?.owner.base64, ipv4Address: ownIPv4.map { "\($0)" },
            ipv4Prefix: ipv4Prefix.map { "\($0)" })
    }

    /// Who holds which name among the present members: the same claims, hence the same
    /// answer, as the DNS zone (`dnsMesh`).
    func aliasTable() -> AliasTable {
        var claims: [NodeID: String] = [:]
        for member in liveMembers {
            if let record = records[member.owner] { claims[member.owner] = record.alias }
        }
        return AliasTable(claims: claims)
    }

    public func detail(now: Instant) -> MeshDetail {
        let names = aliasTable()
        let ownerNodes = Set(ledger?.owners.compactMap { $0.derivedWireGuardKey?.nodeID } ?? [])
        let members = engine.members.compactMap { member -> MemberView? in
            guard let record = records[member.owner] else { return nil }
            let isSelf = member.owner == identity.nodeID
            return MemberView(
                id: record.wireGuardKey.base64, shortId: AliasTable.shortID(of: member.owner),
                alias: names.alias(of: member.owner),
                description: record.description.isEmpty ? nil : record.description, address: "\(record.address)",
                endpoints: record.endpoints.map(\.description), role: "\(record.role)",
                lastSeenSeconds: isSelf ? 0 : gossip.lastHeard[member.owner].map { now.since($0).seconds },
                isLeader: engine.leader == member.owner, isSelf: isSelf, services: record.services,
                routes: record.routes.map { RouteView(prefix: "\($0.prefix)", path: $0.path.map(\.text)) },
                version: record.version,
                via: record.role == .client ? topology.attachments[record.wireGuardKey].map { "\($0.nodeID)" } : nil,
                aliasConflict: names.voidClaims[member.owner].map { AliasConflictView(member.owner, $0, names) },
                ipv4: ipv4?.address(of: record.signingKey).map { "\($0)" })
        }.map { view -> MemberView in
            var view = view
            guard let key = WireGuardPublicKey(base64: view.id) else { return view }
            if ownerNodes.contains(key.nodeID) { view.isOwner = true }
            view.evicted = evictionView(of: key.nodeID)
            view.path = pathView(of: key, now: now)
            if let record = records[key.nodeID], !record.candidates.isEmpty {
                view.candidates = record.candidates.map(\.description)
            }
            let tags = tags(of: key.nodeID)
            if !tags.isEmpty { view.tags = tags.map(\.name) }
            return view
        }
        var detail = MeshDetail(mesh: summary(), members: members.sorted { $0.id < $1.id }, routing: routing())
        let removed = removedMembers()
        detail.removed = removed.isEmpty ? nil : removed
        return detail
    }

    func evictionView(of member: NodeID) -> EvictionView? {
        ledger?.evicted[member].map { EvictionView(by: describe(owner: $0.by), atMillis: $0.at) }
    }

    /// Evicted members first (whether or not the store still holds them), then removals.
    func removedMembers() -> [RemovedMemberView] {
        var views: [RemovedMemberView] = []
        var seen = Set<NodeID>()
        for (id, _) in (ledger?.evicted ?? [:]).sorted(by: { $0.key < $1.key }) {
            seen.insert(id)
            views.append(
                RemovedMemberView(
                    id: WireGuardPublicKey(nodeID: id).base64, shortId: AliasTable.shortID(of: id),
                    alias: records[id].flatMap { $0.alias.isEmpty ? nil : $0.alias }, state: "evicted",
                    evicted: evictionView(of: id)))
        }
        for entry in engine.store.entries where !entry.isPresent && !seen.contains(entry.id) {
            guard let tombstone = entry.tombstone else { continue }
            views.append(
                RemovedMemberView(
                    id: WireGuardPublicKey(nodeID: entry.id).base64, shortId: AliasTable.shortID(of: entry.id),
                    alias: records[entry.id].flatMap { $0.alias.isEmpty ? nil : $0.alias },
                    state: tombstone.kind == .left ? "left" : "pruned"))
        }
        return views
    }

    /// The owners, most senior first.
    public func owners() -> OwnersResponse {
        let owners = (ledger?.owners ?? []).enumerated().map { index, key -> OwnerView in
            let node = key.derivedWireGuardKey?.nodeID
            return OwnerView(
                signingKey: key.base64, id: key.derivedWireGuardKey?.base64 ?? "",
                shortId: node.map(AliasTable.shortID) ?? "",
                alias: node.flatMap { records[$0] }.flatMap { $0.alias.isEmpty ? nil : $0.alias }, seniority: index,
                isSelf: key == identity.signingKey, isFounder: key == ledger?.founder)
        }
        return OwnersResponse(meshId: mesh.text, owners: owners, isOwner: isOwner, statements: ledger?.count ?? 0)
    }

    /// This node's choice for every prefix it routes into the mesh.
    public func routing() -> [RouteChoiceView] {
        let me = identity.wireGuardPublicKey
        return topology.advertisedPrefixes.compactMap { prefix in
            guard let via = topology.nextHop(for: prefix, chooser: me) else { return nil }
            return RouteChoiceView(
                prefix: "\(prefix)", exit: topology.exit(for: prefix, chooser: me).map { "\($0.nodeID)" },
                via: "\(via.nodeID)", hopCount: topology.hopCount(of: prefix) ?? 0)
        }
    }

    public func status(now: Instant) -> MeshStatus {
        var status = MeshStatus(
            meshId: mesh.text, interface: interfaceName, members: engine.store.presentCount,
            leader: engine.leader.map { "\($0)" },
            lastSyncSecondsAgo: lastFrame.map { now.since($0).seconds },
            lastError: lastError, aliasConflicts: aliasConflicts(), settingsSigned: persisted.charter != nil,
            started: true, oldFrameVersion: legacyMembers)
        if let ledger {
            status.secretGeneration = secretGeneration
            status.owners = ledger.owners.count
            status.isOwner = isOwner
            if ledger.owners.count == 1 {
                status.warnings = [
                    "the mesh has a single owner: if its machine is lost, nobody can evict or invite; "
                        + "make another member an owner with `smegctl owner add \(name ?? mesh.text) MEMBER`"
                ]
            }
        }
        status.evicted = eviction.map { EvictionView(by: $0.by, atMillis: $0.at) }
        status.ipv4Problem = ownIPv4Problem
        status.reconnecting = reconnectingView(now: now)
        return status
    }

    /// Members heard speaking frame version 1, for `status`.
    var legacyMembers: [String]? {
        let ids = gossip.wire.legacySenders.sorted().map { "\($0)" }
        return ids.isEmpty ? nil : ids
    }

    /// Every present member with a verified record and the alias it claims; the zone applies
    /// `AliasTable` to the same claims the member views use, so both show the same names.
    public func dnsMesh() -> DNSZone.Mesh {
        let members = liveMembers.compactMap { member -> DNSZone.Member? in
            guard let record = records[member.owner] else { return nil }
            return DNSZone.Member(
                id: member.owner, alias: record.alias, address: record.address,
                ipv4: ipv4?.address(of: record.signingKey))
        }
        return DNSZone.Mesh(id: mesh, name: name, members: members)
    }

    /// Void alias claims, this node's first: its operator is the one who can act on it.
    private func aliasConflicts() -> [AliasConflictView]? {
        let me = identity.nodeID
        let table = aliasTable()
        let claims = table.voidClaims.sorted {
            ($0.key == me ? 0 : 1, $0.key) < ($1.key == me ? 0 : 1, $1.key)
        }
        return claims.isEmpty ? nil : claims.map { AliasConflictView($0.key, $0.value, table) }
    }
}

extension AliasConflictView {
    /// `contestedWith` lists every other claimant, not just the one the refusal names, so an
    /// operator sees the whole contest from any claimant's entry.
    public init(_ member: NodeID, _ claim: AliasTable.VoidClaim, _ table: AliasTable) {
        var others: [String]?
        if case .contested = claim.refusal {
            others = table.claimants(of: claim.alias).filter { $0 != member }.map(AliasTable.shortID)
        }
        self.init(
            shortId: AliasTable.shortID(of: member), alias: claim.alias, contestedWith: others,
            reason: "\(claim.refusal)")
    }
}
