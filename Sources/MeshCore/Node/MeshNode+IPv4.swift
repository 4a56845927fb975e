import GossipCRDT

/// An admission a record carries, decoded once.
struct CarriedAdmission {
    let bytes: [UInt8]
    let statement: OwnerStatement?
}

/// IPv4 overlay addresses on this node: the assignment every member computes from the signed
/// claims (`IPv4Assignment`), the addresses this node hands out as an owner, and moving the
/// loser of a conflict.
extension MeshNode {
    /// The mesh's IPv4 network; nil for meshes made before IPv4 overlays.
    public var ipv4Prefix: IPPrefix? { charter?.ipv4Prefix }

    /// This node's own IPv4 overlay address, once the assignment gives it one.
    public var ownIPv4: IPv4Address? { ipv4?.address(of: identity.signingKey) }

    /// How long an owner waits before giving the same member another new address: the first
    /// one must have had time to spread, or two owners' fixes would chase each other.
    static let readmissionInterval: Duration = .seconds(10)

    /// The admit statement `record` carries, verified for this mesh (cached per record).
    mutating func carriedAdmission(of record: NodeRecord, id: NodeID) -> OwnerStatement? {
        guard let bytes = record.admission else {
            admissionClaims[id] = nil
            return nil
        }
        if let cached = admissionClaims[id], cached.bytes == bytes { return cached.statement }
        let statement = try? record.verifiedAdmission(bytes, in: mesh)
        admissionClaims[id] = CarriedAdmission(bytes: bytes, statement: statement)
        return statement
    }

    /// Recomputes the assignment among the present members from the claims of current owners:
    /// the admissions their records carry and the ledger's. Says so when this node's own
    /// address changes: the operator's `ssh 100.x` stops working.
    mutating func updateIPv4Assignment(members: [NodeID]) -> [Effect] {
        guard let prefix = ipv4Prefix, let ledger = gossip.ledger else {
            ipv4 = nil
            return []
        }
        let before = ownIPv4
        var keys: [SigningPublicKey] = []
        var claims = ledger.addressClaims
        for id in members {
            guard let record = records[id] else { continue }
            keys.append(record.signingKey)
            if let statement = carriedAdmission(of: record, id: id), ledger.isOwner(statement.issuer),
                let claim = IPv4Assignment.Claim(statement)
            {
                claims.append(claim)
            }
        }
        let live = Set(members)
        for id in admissionClaims.keys where !live.contains(id) { admissionClaims[id] = nil }
        ipv4 = IPv4Assignment(prefix: prefix, members: keys, claims: claims)
        let after = ownIPv4
        guard after != before, keys.contains(identity.signingKey) else { return [] }
        if let after {
            return [
                .log(
                    before == nil ? .info : .notice,
                    "this node's IPv4 overlay address is \(after) (was \(before.map { "\($0)" } ?? "none"))")
            ]
        }
        return ownIPv4Problem.map { [.log(.warning, $0)] } ?? []
    }

    /// Every address this node knows to be claimed, held or not: what an owner must not hand
    /// out again. Beyond the present members' claims it counts the ledger's and every grant of
    /// this node's invites, so a member that is away keeps its address.
    /// Every address the assignment holds comes from one of these claims.
    var claimedIPv4Addresses: Set<IPv4Address> {
        let statements =
            admissionClaims.values.compactMap(\.statement) + inviteBook.entries.values.flatMap(\.redeemed.values)
        let claims = (gossip.ledger?.addressClaims ?? []) + statements.compactMap(IPv4Assignment.Claim.init)
        return Set(claims.map(\.address))
    }

    /// The address an owner gives `member` now: its proposal or the next free one; nil when
    /// the mesh has no IPv4 prefix or it is full.
    func allocateIPv4(for member: SigningPublicKey) -> IPv4Address? {
        guard let prefix = ipv4Prefix else { return nil }
        return IPv4Allocation.allocate(mesh: mesh, member: member, prefix: prefix, taken: claimedIPv4Addresses)
    }

    /// The owner that moves members without an address: the most senior owner that is
    /// present, so one owner acts rather than all of them at once.
    var isIPv4Steward: Bool {
        guard let ledger = gossip.ledger else { return false }
        let present = Set(liveMembers.map(\.owner))
        let steward = ledger.owners.first { key in key.derivedWireGuardKey.map { present.contains($0.nodeID) } ?? false
        }
        return steward == identity.signingKey
    }

    /// As the steward, admits every present member that has no address (the loser of a
    /// conflict, or one admitted without) again with a free one, at most every
    /// `readmissionInterval` per member. The new admission goes into the ledger, which every
    /// member merges; its newer claim is what moves the member.
    mutating func readmitWithoutAddress(now: Instant) -> [Effect] {
        guard let assignment = ipv4, !assignment.missing.isEmpty, isIPv4Steward, let ledger = gossip.ledger else {
            return []
        }
        var decisions: [OwnerStatement.Decision] = []
        var notes: [Effect] = []
        var handed = claimedIPv4Addresses
        for (member, missing) in assignment.missing.sorted(by: { $0.key.bytes.lexicographicallyPrecedes($1.key.bytes) })
        {
            if let last = readmittedAt[member], now < last + Self.readmissionInterval { continue }
            guard let node = member.derivedWireGuardKey?.nodeID, !ledger.isEvicted(node) else { continue }
            guard
                let address = IPv4Allocation.allocate(
                    mesh: mesh, member: member, prefix: assignment.prefix, taken: handed)
            else {
                notes.append(
                    .log(
                        .warning,
                        "the IPv4 prefix \(assignment.prefix) is full: \(describe(owner: member)) gets no IPv4 address")
                )
                break
            }
            handed.insert(address)
            readmittedAt[member] = now
            let base = admission(of: member, node: node) ?? Admission(member: member, role: .member, invite: nil)
            decisions.append(.admit(base.with(ipv4: address)))
            switch missing {
            case .displaced(let lost, let holder):
                notes.append(
                    .log(
                        .notice,
                        "IPv4 \(lost) is held by \(describe(owner: holder)) (admitted first); "
                            + "moving \(describe(owner: member)) to \(address)"))
            case .unassigned:
                notes.append(.log(.info, "giving \(describe(owner: member)) the IPv4 address \(address)"))
            }
        }
        guard !decisions.isEmpty else { return notes }
        return notes + issue(decisions, wallMillis: lastWallMillis, now: now)
    }

    /// The admission that makes `member` a member now: the ledger's, else its record's.
    private func admission(of member: SigningPublicKey, node: NodeID) -> Admission? {
        if let admitted = gossip.ledger?.admitted[member] { return admitted }
        if let statement = admissionClaims[node]?.statement, case .admit(let grant) = statement.decision {
            return grant
        }
        return nil
    }

    /// What `status` and the log say about this node's own IPv4 address when it has none.
    var ownIPv4Problem: String? {
        guard let assignment = ipv4, let missing = assignment.missing[identity.signingKey] else { return nil }
        switch missing {
        case .displaced(let address, let holder):
            return "IPv4 \(address) is held by \(describe(owner: holder)), admitted with it first; "
                + "an owner gives this node a new address (automatic while one is online)"
        case .unassigned:
            return "no IPv4 address yet: an owner gives this node one (automatic while one is online)"
        }
    }
}
