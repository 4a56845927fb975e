import GossipCRDT

/// Rotating the mesh secret: an owner draws a new one, commits to it in the ledger and seals it
/// to every member; a member takes a secret only if it matches the newest rotation's commitment,
/// and one that was away asks any member it reaches (`JoinMessage.SecretRequest`).
extension MeshNode {
    /// How long frames under the previous secret still open after a switch: every member that
    /// was reachable switches within a round trip, so this only covers stragglers.
    public static let secretOverlap: Duration = .seconds(30)
    /// How often a member whose frames stopped opening asks for the current secret.
    static let secretRequestInterval: Duration = .seconds(5)
    /// How long a member waits for the delivery that follows a rotation before it asks.
    static let catchUpDelay: Duration = .seconds(2)

    /// `smegctl rotate`: a new secret for every member but the evicted.
    public mutating func rotateSecret(wallMillis: UInt64, now: Instant) throws(OwnerActionError) -> [Effect] {
        _ = try ownLedger()
        return rotate(wallMillis: wallMillis, now: now)
    }

    mutating func rotate(wallMillis: UInt64, now: Instant) -> [Effect] {
        guard let fresh = try? MeshSecret.generate() else { return [.log(.error, "cannot draw a new mesh secret")] }
        let generation = max(secretGeneration, gossip.ledger?.secretGeneration?.number ?? 0).adding(saturating: 1)
        let commitment = SecretCommitment.of(fresh, generation: generation, mesh: mesh)
        var effects = issue([.rotate(generation: generation, commitment: commitment)], wallMillis: wallMillis, now: now)
        effects += perform(gossip.deliver(fresh, generation: generation), now: now)
        return effects + adopt(fresh, generation: generation, now: now)
    }

    /// Switches to `candidate` when the ledger's newest rotation commits to it: a newer
    /// generation, or the same one when two owners rotated at once and this node took the one
    /// that lost the tie.
    mutating func adopt(_ candidate: MeshSecret, generation: UInt64, now: Instant) -> [Effect] {
        guard let newest = gossip.ledger?.secretGeneration, newest.number == generation,
            SecretCommitment.of(candidate, generation: generation, mesh: mesh) == newest.commitment, isBehind
        else { return [] }
        secret = candidate
        secretGeneration = generation
        let session = FrameSession(
            mesh: mesh, secret: candidate, identity: identity, counterHighWater: gossip.wire.session.counterHighWater)
        gossip.replaceSession(session, until: now + Self.secretOverlap)
        persisted.secret = Base64.encode(candidate.bytes)
        persisted.secretGeneration = generation
        pendingSecretRequest = nil
        behindSince = nil
        return [.saveMesh(persisted), .log(.notice, "the mesh secret is now generation \(generation)")]
    }

    /// A secret a rotating owner sealed to this node.
    mutating func secretOffered(generation: UInt64, sealed: [UInt8], now: Instant) -> [Effect] {
        guard
            let bytes = Sodium.openSealedBox(
                sealed, publicKey: identity.wireGuardPublicKey.bytes, privateKey: identity.wireGuardPrivateKey.bytes),
            let candidate = MeshSecret(bytes: bytes)
        else { return [.metric(.rejected("bad-secret-delivery"))] }
        let effects = adopt(candidate, generation: generation, now: now)
        return effects.isEmpty ? [.metric(.rejected("stale-secret-delivery"))] : effects
    }

    /// Whether the ledger names a newer secret than this node holds.
    var isBehind: Bool {
        guard let newest = gossip.ledger?.secretGeneration else { return false }
        return newest.number > secretGeneration
            || SecretCommitment.of(secret, generation: secretGeneration, mesh: mesh) != newest.commitment
    }

    /// The ledger named a newer secret than this node holds for `catchUpDelay` (its delivery,
    /// which follows the rotation statement, was lost): ask two members for it.
    mutating func catchUpIfBehind(now: Instant) -> [Effect] {
        guard isBehind else {
            behindSince = nil
            return []
        }
        guard let since = behindSince else {
            behindSince = now
            return []
        }
        guard now.since(since) >= Self.catchUpDelay else { return [] }
        let addresses = liveMembers.map(\.owner).filter { $0 != identity.nodeID }.prefix(2).compactMap {
            gossip.address(of: $0)
        }
        return requestSecret(from: Array(addresses), now: now, because: "the ledger names a newer mesh secret")
    }

    /// A frame of this mesh no secret here opens, from an address a member was heard at (or a
    /// bootstrap address): this node may have missed a rotation, so it asks there.
    mutating func undecryptable(from source: PeerAddress, now: Instant) -> [Effect] {
        // Junk with this mesh's id costs a lookup only when a request is due (it scans members).
        if let last = pendingSecretRequest?.at, now.since(last) < Self.secretRequestInterval { return [] }
        guard gossip.ledger != nil,
            gossip.bootstrap.contains(source) || gossip.wire.learned.values.contains(source)
        else { return [] }
        return requestSecret(from: [source], now: now, because: "frames from \(source) no longer open")
    }

    private mutating func requestSecret(
        from addresses: [PeerAddress], now: Instant, because reason: String
    )
        -> [Effect]
    {
        guard !addresses.isEmpty else { return [] }
        if let last = pendingSecretRequest?.at, now.since(last) < Self.secretRequestInterval { return [] }
        guard let nonce = try? Sodium.randomBytes(16) else { return [] }
        pendingSecretRequest = (nonce, now)
        let request = JoinMessage.secretRequest(
            generation: secretGeneration, admission: ownAdmission, identity: identity, nonce: nonce,
            sentAt: lastWallMillis, mesh: mesh)
        return [.log(.info, "\(reason): asking for the current mesh secret")]
            + addresses.map { .send(request, to: $0) }
    }

    /// Answers a member that asks for the current secret, if it is admitted and not evicted and
    /// this node holds the newest rotation's secret.
    mutating func answerSecretRequest(_ request: JoinMessage.SecretRequest, from source: PeerAddress) -> [Effect] {
        // Not behind: this node holds the very secret the newest rotation commits to.
        guard let ledger = gossip.ledger, let rotation = ledger.rotation, !isBehind,
            request.generation <= secretGeneration, let node = request.requester.derivedWireGuardKey?.nodeID,
            !ledger.isEvicted(node)
        else { return [.metric(.rejected("secret-request-refused"))] }
        let carried = request.admission.flatMap { try? OwnerStatement(bytes: $0, mesh: mesh) }
        let admitted = ledger.admits(request.requester, as: .client, carried: carried)
        guard admitted, ledger.requiresAdmissions || records[node] != nil,
            let grant = JoinMessage.secretGrant(for: request, secret: secret, rotation: rotation, mesh: mesh)
        else { return [.metric(.rejected("secret-request-refused"))] }
        return [.send(grant, to: source), .log(.info, "sent the current mesh secret to \(gossip.describe(node))")]
    }

    /// The answer to this node's own secret request.
    mutating func receiveSecretGrant(_ frame: [UInt8], now: Instant) -> [Effect] {
        guard let pending = pendingSecretRequest,
            let offer = JoinMessage.openSecretGrant(frame, nonce: pending.nonce, identity: identity, mesh: mesh),
            case .rotate(let generation, _) = offer.rotation.decision
        else { return [.metric(.rejected("bad-secret-grant"))] }
        var effects: [Effect] = []
        if gossip.ledger?.insert(offer.rotation) == .added { effects += ledgerChanged([offer.rotation], now: now) }
        return effects + adopt(offer.secret, generation: generation, now: now)
    }
}
