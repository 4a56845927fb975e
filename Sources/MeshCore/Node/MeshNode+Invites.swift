import GossipCRDT

/// Invites: the tokens this node hands out, and, as an issuing owner, redeeming them for
/// joiners over join frames (`JoinMessage`).
extension MeshNode {
    /// Join frames answered per second once a burst is spent: each costs two signature checks,
    /// a seal and a write of invites.json. The burst lets a fleet rolled out at once join at
    /// once (99 joiners waited 5 s behind a plain 20 a second, and two gave up); a flood gets
    /// the burst once, then the rate.
    static let joinFramesPerSecond = 20
    static let joinFrameBurst = 128
    /// The default lifetime of an invite, and the longest allowed.
    public static let defaultInviteLifetime: Duration = .seconds(24 * 3600)
    public static let maxInviteLifetime: Duration = .seconds(365 * 24 * 3600)

    /// Where this node's gossip answers, as invites name it: the operator's public endpoint for
    /// this mesh first, then `local` (the host's addresses at that port; loopback when none).
    func bootstrapEndpoints(gossipPort: UInt16, local: [Endpoint]) -> [Endpoint] {
        var endpoints: [Endpoint] = []
        if let given = options.endpoint, let endpoint = Endpoint(host: given.host, port: gossipPort) {
            endpoints.append(endpoint)
        }
        endpoints += local.filter { !endpoints.contains($0) }
        if endpoints.isEmpty { endpoints = Endpoint.loopback(port: gossipPort) }
        return Array(endpoints.prefix(InviteToken.maxEndpoints))
    }

    /// The token of a mesh made before owners existed: it carries the secret, as such meshes
    /// always did. A mesh with owners has invitations instead (`invite`).
    public func inviteToken(gossipPort: UInt16, local: [Endpoint]) throws -> InviteToken {
        let bootstrap = bootstrapEndpoints(gossipPort: gossipPort, local: local)
        if let charter {
            return try InviteToken(secret: secret, bootstrap: bootstrap, charter: charter)
        }
        return try InviteToken(mesh: mesh, secret: secret, bootstrap: bootstrap, name: persisted.name, policy: policy)
    }

    /// A new owner-signed invitation with this node as its issuer (and where joiners redeem it).
    public mutating func invite(
        lifetime: Duration, uses: Int, role: Admission.Role, makesOwner: Bool, gossipPort: UInt16, local: [Endpoint],
        wallMillis: UInt64
    ) throws -> (Invitation, [Effect]) {
        guard let charter, let ledger = gossip.ledger else { throw OwnerActionError.noOwners(mesh) }
        guard ledger.isOwner(identity.signingKey) else {
            throw OwnerActionError.notAnOwner(mesh, owners: ledger.owners.map(describe(owner:)))
        }
        let lifetime = min(max(lifetime, .seconds(1)), Self.maxInviteLifetime)
        let ticket = InviteTicket.sign(
            id: try InviteID.generate(), expiresAt: wallMillis.adding(saturating: UInt64(lifetime.seconds * 1000)),
            uses: uses, role: role, makesOwner: makesOwner, by: identity, mesh: mesh)
        inviteBook.add(ticket, issuedAt: wallMillis)
        let invitation = try Invitation(
            charter: charter, ticket: ticket, bootstrap: bootstrapEndpoints(gossipPort: gossipPort, local: local))
        return (invitation, [.saveInvites(PersistedInvites(inviteBook))])
    }

    /// Revokes an invite for good: in this node's book when it issued it, and in the ledger so
    /// that its issuer, wherever it is, refuses it too.
    public mutating func revokeInvite(_ text: String, wallMillis: UInt64, now: Instant) throws -> [Effect] {
        guard let id = InviteID(text) else { throw InviteActionError.badID(text) }
        guard let ledger = gossip.ledger, ledger.isOwner(identity.signingKey) else {
            throw OwnerActionError.notAnOwner(mesh, owners: gossip.ledger?.owners.map(describe(owner:)) ?? [])
        }
        guard !ledger.revokedInvites.contains(id) else { throw InviteActionError.alreadyRevoked(id) }
        var effects: [Effect] = []
        if inviteBook.revoke(id) { effects.append(.saveInvites(PersistedInvites(inviteBook))) }
        return effects + issue([.revokeInvite(id)], wallMillis: wallMillis, now: now)
    }

    /// The invites this node issued, newest first.
    public func invites(wallMillis: UInt64) -> InvitesResponse {
        let revoked = gossip.ledger?.revokedInvites ?? []
        let views = inviteBook.entries.values.sorted { $0.issuedAt > $1.issuedAt }.map { entry in
            let state: String
            if entry.revoked || revoked.contains(entry.ticket.id) {
                state = "revoked"
            } else if entry.usesLeft == 0 {
                state = "used up"
            } else if entry.ticket.expiresAt < wallMillis {
                state = "expired"
            } else {
                state = "valid"
            }
            return InviteView(
                id: "\(entry.ticket.id)", issuedAtMillis: entry.issuedAt, expiresAtMillis: entry.ticket.expiresAt,
                uses: entry.ticket.uses, usesLeft: entry.usesLeft, role: "\(entry.ticket.role)",
                makesOwner: entry.ticket.makesOwner, state: state)
        }
        return InvitesResponse(meshId: mesh.text, invites: views)
    }

    /// Restores the book saved in `invites.json`.
    public mutating func restoreInvites(_ loaded: StateFile<PersistedInvites>) -> [Effect] {
        switch loaded {
        case .absent: return []
        case .corrupt(let problem): return [.log(.error, problem)]
        case .value(let saved):
            let (book, refused) = saved.book(mesh: mesh)
            inviteBook = book
            return refused == 0
                ? [] : [.log(.warning, "invites.json: \(refused) entries failed verification and were dropped")]
        }
    }

    // MARK: Redeeming

    /// A join frame: a request this node answers if it issued the ticket, within the rate
    /// limit; the uses are saved before the grant goes out.
    mutating func receiveJoin(_ bytes: [UInt8], from source: PeerAddress, now: Instant, wallMillis: UInt64) -> [Effect]
    {
        guard takeJoinBudget(now: now) else { return [.metric(.rejected("join-rate"))] }
        let decoded = JoinMessage.decode(bytes, mesh: mesh)
        if case .secretRequest(let request) = decoded { return answerSecretRequest(request, from: source) }
        if case .secretGrant = decoded { return receiveSecretGrant(bytes, now: now) }
        guard case .request(let request) = decoded, let ledger = gossip.ledger else {
            return [.metric(.rejected("join-malformed"))]
        }
        let before = inviteBook
        let address = allocateIPv4(for: request.requester)
        switch inviteBook.redeem(
            request, now: wallMillis, ledger: ledger, issuer: identity, mesh: mesh, ipv4: address)
        {
        case .failure(let reason):
            let refusal = JoinMessage.refusal(reason, nonce: request.nonce, responder: identity, mesh: mesh)
            return [
                .log(.notice, "refused a join with invite \(request.ticket.id) from \(source): \(reason)"),
                .metric(.rejected("join-refused")), .send(refusal, to: source),
            ]
        case .success(let admission):
            guard
                let grant = JoinMessage.grant(
                    for: request, secret: secret, admission: admission, issuer: identity, mesh: mesh)
            else { return [.metric(.rejected("join-malformed"))] }
            var effects: [Effect] = []
            let first = inviteBook != before
            if first {
                effects.append(.saveInvites(PersistedInvites(inviteBook)))
                let left = inviteBook.entries[request.ticket.id]?.usesLeft ?? 0
                effects.append(
                    .log(
                        .notice,
                        "admitted \(describe(owner: request.requester)) with invite \(request.ticket.id) (\(left) uses left)"
                    ))
            }
            effects.append(.send(grant, to: source))
            if first, request.ticket.makesOwner {
                effects += issue([.addOwner(request.requester)], wallMillis: wallMillis, now: now)
            }
            return effects
        }
    }

    private mutating func takeJoinBudget(now: Instant) -> Bool {
        let burst = Double(Self.joinFrameBurst)
        var tokens = burst
        if let last = joinWindow.last {
            let refill = now.since(last).seconds * Double(Self.joinFramesPerSecond)
            tokens = min(burst, joinWindow.tokens + max(refill, 0))
        }
        joinWindow.last = max(joinWindow.last ?? now, now)
        guard tokens >= 1 else {
            joinWindow.tokens = tokens
            return false
        }
        joinWindow.tokens = tokens - 1
        return true
    }
}

public enum InviteActionError: Error, Equatable, Sendable, CustomStringConvertible {
    case badID(String)
    case alreadyRevoked(InviteID)

    public var description: String {
        switch self {
        case .badID(let text): "'\(text)' is not an invite id; `smegctl invites MESH` lists them"
        case .alreadyRevoked(let id): "invite \(id) is already revoked"
        }
    }
}
