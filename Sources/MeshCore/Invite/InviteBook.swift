/// The invites one owner has issued, and what became of them: only the issuer redeems its
/// tickets, so it alone counts their uses and no two joiners can share a single use, however
/// closely they race (its node handles one request at a time and saves the count before it
/// answers). Revocations and evictions come from the ledger too, so another owner can stop an
/// invite it did not issue.
public struct InviteBook: Sendable, Equatable {
    /// Invites kept per mesh; the oldest finished ones go first beyond it.
    public static let capacity = 256

    public struct Entry: Sendable, Equatable {
        public let ticket: InviteTicket
        /// Milliseconds since 1970 when it was issued.
        public let issuedAt: UInt64
        /// Who redeemed it, with the admission each got (a retry gets the same one back).
        public internal(set) var redeemed: [SigningPublicKey: OwnerStatement] = [:]
        public internal(set) var revoked = false

        public var usesLeft: Int { max(0, ticket.uses - redeemed.count) }
    }

    public internal(set) var entries: [InviteID: Entry] = [:]

    public init() {}

    /// Records a newly issued ticket, dropping the oldest finished (used up, revoked or
    /// expired) entries when over `capacity`.
    public mutating func add(_ ticket: InviteTicket, issuedAt: UInt64) {
        entries[ticket.id] = Entry(ticket: ticket, issuedAt: issuedAt)
        guard entries.count > Self.capacity else { return }
        let finished = entries.values.filter { $0.usesLeft == 0 || $0.revoked || $0.ticket.expiresAt < issuedAt }
            .sorted { $0.issuedAt < $1.issuedAt }
        for entry in finished.prefix(entries.count - Self.capacity) { entries[entry.ticket.id] = nil }
    }

    public mutating func revoke(_ id: InviteID) -> Bool {
        guard entries[id] != nil else { return false }
        entries[id]?.revoked = true
        return true
    }

    /// Decides a request by `issuer` (this node), at `now` (ms since 1970): the admission to
    /// grant, already counted, or why not. A requester that redeemed the ticket before gets its
    /// admission again without using another use. `ipv4` is the address a new admission names
    /// (the issuer allocates it, `IPv4Allocation`); nil in a mesh without an IPv4 prefix.
    public mutating func redeem(
        _ request: JoinMessage.Request, now: UInt64, ledger: OwnerLedger, issuer: NodeIdentity, mesh: MeshID,
        ipv4: IPv4Address? = nil
    ) -> Result<OwnerStatement, JoinRefusal> {
        let ticket = request.ticket
        guard ticket.issuer == issuer.signingKey, var entry = entries[ticket.id], entry.ticket == ticket else {
            return .failure(.unknownInvite)
        }
        if let node = request.requester.derivedWireGuardKey?.nodeID, ledger.isEvicted(node) {
            return .failure(.evicted)
        }
        if let known = entry.redeemed[request.requester] { return .success(known) }
        if entry.revoked || ledger.revokedInvites.contains(ticket.id) { return .failure(.revoked) }
        guard now <= ticket.expiresAt else { return .failure(.expired) }
        guard entry.usesLeft > 0 else { return .failure(.usedUp) }
        guard ledger.isOwner(issuer.signingKey) else { return .failure(.issuerNotOwner) }
        guard ticket.role == .member || request.role == .client else { return .failure(.roleNotAllowed) }
        let admission = OwnerStatement.sign(
            .admit(Admission(member: request.requester, role: ticket.role, invite: ticket.id, ipv4: ipv4)), by: issuer,
            at: now,
            mesh: mesh)
        entry.redeemed[request.requester] = admission
        entries[ticket.id] = entry
        return .success(admission)
    }
}
