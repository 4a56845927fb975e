import GossipCRDT

/// The owner ledger's gossip (`OwnerMessage`): summaries every `ledgerInterval` to one member
/// in turn, full exchanges when summaries differ, and new statements pushed on at once.
extension GossipCore {
    /// One summary every five seconds from each member while its ledger changed in the last
    /// minute, one a minute after that: 122 bytes on the wire, so a quiet mesh spends 2 B/s
    /// per member on it instead of 24. Statements spread by their pushes; summaries only
    /// repair what a push missed, and the member that holds a new statement is the one that
    /// still sends often.
    static let ledgerInterval: Duration = .seconds(5)
    static let quietLedgerInterval: Duration = .seconds(60)
    /// How often a node whose summary nobody has answered yet asks: a joiner learns the
    /// owners' statements (admissions in the ledger, their IPv4 addresses) within a second.
    static let unsyncedLedgerInterval: Duration = .milliseconds(500)
    /// Members a new statement is pushed on to by each member that learns it.
    static let ledgerFanout = 3

    /// Present members other than this node and evicted ones, in a stable order.
    private var ledgerPeers: [NodeID] {
        engine.store.entries.filter { $0.isPresent && $0.id != engine.me && ledger?.isEvicted($0.id) != true }
            .map(\.id)
    }

    mutating func ledgerTick(now: Instant) -> [Effect] {
        // An empty ledger asks too: a node that just joined pulls the owners' statements at its
        // first round with a member, instead of waiting to be offered them.
        guard let ledger else { return [] }
        if ledgerGrew {
            ledgerGrew = false
            ledgerChangedAt = now
            // A new statement counts as news for the summaries: back to the short interval.
            if let due = ledgerDue, due > now + Self.ledgerInterval { ledgerDue = now + Self.ledgerInterval }
        }
        if let due = ledgerDue, now < due { return [] }
        let recent = ledgerChangedAt.map { now < $0 + Self.quietLedgerInterval } ?? false
        ledgerDue =
            now
            + (!ledgerSynced ? Self.unsyncedLedgerInterval : recent ? Self.ledgerInterval : Self.quietLedgerInterval)
        let peers = ledgerPeers
        guard !peers.isEmpty else {
            ledgerDue = nil  // the first member this node meets gets a summary at once
            return []
        }
        ledgerTurn = (ledgerTurn &+ 1) % peers.count
        return sendOwners([.summary(ledger.summary, count: ledger.count)], to: peers[ledgerTurn], replyingTo: nil)
    }

    /// A statement this node's owner identity made: into the ledger and straight to every
    /// present member (the evicted one too, so that an honest evictee learns it at once).
    mutating func issue(_ statements: [OwnerStatement]) -> [Effect] {
        guard let added = ledger?.merge(statements), !added.isEmpty else { return [] }
        ledgerGrew = true
        var effects: [Effect] = [.ledgerChanged(added)]
        let everyone = engine.store.entries.filter { $0.isPresent && $0.id != engine.me }.map(\.id)
        for member in everyone {
            effects += sendOwners(OwnerMessage.chunks(added, wantsReply: false), to: member, replyingTo: nil)
        }
        return effects
    }

    mutating func receiveOwners(_ message: OwnerMessage, _ inbound: MeshWire.Opened, now: Instant) -> [Effect] {
        guard let ledger, inbound.proven, engine.store.isPresent(inbound.sender) else {
            return [.rejected("owner-message-from-stranger")]
        }
        lastHeard[inbound.sender] = now
        switch message {
        case .summary(let summary, _):
            guard summary != ledger.summary else {
                ledgerSynced = true
                return []
            }
            let ours = ledger.sorted
            // Holding nothing, say so: the answer is then everything the other side holds.
            let messages =
                ours.isEmpty ? [.statements([], wantsReply: true)] : OwnerMessage.chunks(ours, wantsReply: true)
            let answer = sendOwners(messages, to: inbound.sender, replyingTo: inbound)
            guard !answer.contains(where: { if case .send = $0 { true } else { false } }),
                maySubstitute(for: inbound.sender, now: now)
            else { return answer }
            // Too large for an address not yet validated (a member this node has not talked
            // with): answering with nothing would leave it out of the ledger for good, since
            // nothing else validates the address. Its own summary fits; the other side's answer
            // echoes that frame's salt, which validates it, and gets every statement back. At
            // most once per sender per 500 ms, as gossip's bare digests, so that two members
            // that cannot validate each other do not trade summaries at full speed.
            return answer
                + sendOwners([.summary(ledger.summary, count: ledger.count)], to: inbound.sender, replyingTo: inbound)
        case .statements(let statements, let wantsReply):
            ledgerSynced = true
            let added = self.ledger!.merge(statements)
            var effects: [Effect] = []
            if !added.isEmpty {
                ledgerGrew = true
                effects.append(.ledgerChanged(added))
                effects += pushOn(added, except: inbound.sender)
            }
            if wantsReply {
                let theirs = Set(statements.map(\.id))
                let missing = self.ledger!.sorted.filter { !theirs.contains($0.id) }
                if !missing.isEmpty {
                    effects += sendOwners(
                        OwnerMessage.chunks(missing, wantsReply: false), to: inbound.sender, replyingTo: inbound)
                }
            }
            return effects
        case .secret(let generation, let sealed):
            return [.secretOffered(generation: generation, sealed: sealed)]
        }
    }

    /// Hands each present, non-evicted member the secret of a rotation, sealed to it (before
    /// this node switches to it: the frames still go under the secret they share).
    mutating func deliver(_ secret: MeshSecret, generation: UInt64) -> [Effect] {
        var effects: [Effect] = []
        for member in ledgerPeers {
            guard let key = records[member]?.wireGuardKey, let sealed = Sodium.sealedBox(secret.bytes, to: key.bytes)
            else { continue }
            effects += sendOwners([.secret(generation: generation, sealed: sealed)], to: member, replyingTo: nil)
        }
        return effects
    }

    /// Switches to a new frame session (a rotated secret), keeping the old one for opening
    /// until `overlap` ends, so members that switch a moment later are still heard.
    mutating func replaceSession(_ session: FrameSession, until overlap: Instant) {
        wire.rotate(to: session, keepingPreviousUntil: overlap)
        retainAll()
    }

    /// An evicted member that still sends (it was asleep, or cut off, when its eviction
    /// spread) is told once every 10 s, in a reply no larger than its frame allows: an honest
    /// one then tears the mesh down; a hostile one learns nothing it did not know.
    mutating func tellEvicted(_ inbound: MeshWire.Opened, now: Instant) -> [Effect] {
        guard inbound.proven, let ledger else { return [] }
        if let last = toldEvicted[inbound.sender], now.since(last) < .seconds(10) { return [] }
        let statement = ledger.sorted.first {
            if case .evict(let member) = $0.decision { member == inbound.sender } else { false }
        }
        guard let statement else { return [] }
        toldEvicted = toldEvicted.filter { ledger.isEvicted($0.key) && now.since($0.value) < .seconds(10) }
        toldEvicted[inbound.sender] = now
        return sendOwners([.statements([statement], wantsReply: false)], to: inbound.sender, replyingTo: inbound)
    }

    /// New statements go on to a few members in turn, so news spreads epidemically.
    private mutating func pushOn(_ statements: [OwnerStatement], except sender: NodeID) -> [Effect] {
        let peers = ledgerPeers.filter { $0 != sender }
        guard !peers.isEmpty else { return [] }
        var effects: [Effect] = []
        for offset in 0..<min(Self.ledgerFanout, peers.count) {
            let peer = peers[(ledgerTurn &+ offset) % peers.count]
            effects += sendOwners(OwnerMessage.chunks(statements, wantsReply: false), to: peer, replyingTo: nil)
        }
        ledgerTurn = ledgerTurn &+ Self.ledgerFanout
        return effects
    }

    /// Seals owner messages for one member: a reply goes to the frame's source within its
    /// budget (what does not fit is dropped; the next summary retries), anything else to
    /// where the member is reached.
    private mutating func sendOwners(
        _ messages: [OwnerMessage], to member: NodeID, replyingTo inbound: MeshWire.Opened?
    ) -> [Effect] {
        let address: PeerAddress
        var budget: ReplyBudget?
        if let inbound, inbound.sender == member {
            address = inbound.source
            budget = inbound.budget.isUnlimited ? nil : inbound.budget
        } else {
            guard let known = self.address(of: member) else { return [] }
            address = known
        }
        var effects: [Effect] = []
        let underPrevious = inbound?.sender == member && inbound?.underPrevious == true
        for message in messages {
            guard
                let frame = try? wire.seal(
                    message.encoded(), to: member, at: address, budget: &budget, underPrevious: underPrevious)
            else {
                effects.append(.rejected("owner-reply-over-budget"))
                break
            }
            effects.append(.send(frame, to: address))
        }
        return effects
    }
}
