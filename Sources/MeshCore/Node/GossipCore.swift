import GossipCRDT

/// The gossip half of one mesh on this node, with no socket, clock or logger of its own: bytes
/// and time in, frames to send and things that happened out. `MeshRuntime` feeds it datagrams
/// and ticks and performs what it returns, so everything between a datagram and the engine
/// (sealing, reply budgets, where a member is reached, what is learnt from whom) can be run in
/// one process over a simulated network (`GossipCoreTests`).
struct GossipCore {
    /// A membership event, with who it was about as the log should name it (alias and short
    /// id), taken before a departed member's record is dropped.
    struct Happened: Equatable {
        var event: MembershipEvent
        var who: String
    }

    /// What the shell must do or know after an input.
    enum Effect: Equatable {
        case send([UInt8], to: PeerAddress)
        /// A frame refused before the protocol, by reason (a metric label).
        case rejected(String)
        /// A member still sending frame version 1, seen for the first time.
        case legacySender(NodeID)
        /// A proven digest equal to our store: that member holds our record.
        case peerHasOurView(NodeID)
        /// A frame of this mesh opened (whatever it then carried): the mesh is heard from.
        case opened
        /// A digest arrived: an anti-entropy exchange started by a peer.
        case synced
        /// Owner statements new to this node (from a member, or issued here), already in the
        /// ledger and spread on.
        case ledgerChanged([OwnerStatement])
        /// A rotating owner's secret, sealed to this node (checked by `MeshNode`).
        case secretOffered(generation: UInt64, sealed: [UInt8])
        /// A frame of this mesh that no secret this node holds opens, from `source`.
        case undecryptable(PeerAddress)
        /// A path message from a present member (`MeshNode+Paths` acts on it).
        case path(PathMessage, from: NodeID, source: PeerAddress)
    }

    private(set) var engine: GossipEngine
    var wire: MeshWire
    let mesh: MeshID
    /// Decoded, verified records by member, refreshed when a version changes.
    private(set) var records: [NodeID: NodeRecord] = [:]
    /// When each present member was last heard from in a proven frame.
    var lastHeard: [NodeID: Instant] = [:]
    /// Where the bootstrap endpoints of the invite token are (resolved by the shell).
    var bootstrap: [PeerAddress] = [] {
        didSet { engine.setBootstrapPeers(count: bootstrap.count) }
    }
    /// Without a data plane nothing is reachable at a member's overlay address.
    let overlayFallback: Bool
    /// The owners' decisions; nil for a mesh made before owners existed (no charter).
    var ledger: OwnerLedger?
    /// When the next ledger summary goes out, and to which member (round robin).
    var ledgerDue: Instant?
    /// When this node's ledger last grew (noted at the next tick): summaries back off once it
    /// has been quiet.
    var ledgerChangedAt: Instant?
    var ledgerGrew = false
    /// Whether another member has answered this node's ledger summary (or sent the same one):
    /// until then it asks every `unsyncedLedgerInterval`, because a joiner's first summaries
    /// reach members that do not hold its record yet and refuse them.
    var ledgerSynced = false
    /// Which member gets this node's next summary, in turn. It starts where the node's id
    /// says, so that members do not all send their summaries to the same member at once.
    var ledgerTurn = 0
    /// When each evicted member that still sends was last told of its eviction.
    var toldEvicted: [NodeID: Instant] = [:]
    /// Membership events absorbed but not yet taken by the shell.
    private var pending: [Happened] = []
    /// When a bare digest last replaced an over-budget reply to each sender. At most one per
    /// sender per 500 ms, so that two nodes that somehow cannot validate each other's addresses
    /// cannot ping-pong bare digests at full speed; at most 64 entries, stale ones pruned first.
    private var substitutedAt: [NodeID: Instant] = [:]

    init(engine: GossipEngine, wire: MeshWire, mesh: MeshID, overlayFallback: Bool) {
        self.engine = engine
        self.wire = wire
        self.mesh = mesh
        self.overlayFallback = overlayFallback
        self.ledgerTurn = engine.me.bytes.prefix(2).reduce(0) { $0 << 8 | Int($1) }
    }

    mutating func replaceValidator(_ validator: some RecordValidator) { engine.replaceValidator(validator) }

    // MARK: Inputs

    /// One datagram from `source`. Only a frame that proves its sender, from a member present
    /// after it was handled, teaches anything about that member (where it is, when it was
    /// heard); replies to its source stay within the frame's reply budget.
    mutating func receive(_ bytes: [UInt8], from source: PeerAddress, now: Instant) -> [Effect] {
        let inbound: MeshWire.Opened
        switch wire.open(bytes, from: source, now: now) {
        case .refused(let reason) where reason == FrameError.authenticationFailed.reason:
            return [.rejected(reason), .undecryptable(source)]
        case .refused(let reason):
            return [.rejected(reason)]
        case .legacy(let sender, let newlySeen):
            guard newlySeen, let sender else { return [.rejected("frame-version-1")] }
            return [.rejected("frame-version-1"), .legacySender(sender)]
        case .frame(let opened):
            inbound = opened
        }
        if ledger?.isEvicted(inbound.sender) == true { return [.rejected("evicted")] + tellEvicted(inbound, now: now) }
        let message: GossipMessage
        switch inbound.payload {
        case .owners(let owners):
            return [.opened] + receiveOwners(owners, inbound, now: now)
        case .paths(let path):
            // Only from present members: state about a pair is kept for members alone.
            guard engine.store.isPresent(inbound.sender) else { return [.opened, .rejected("path-from-non-member")] }
            lastHeard[inbound.sender] = now
            return [.opened, .path(path, from: inbound.sender, source: inbound.source)]
        case .gossip(let gossip):
            message = gossip
        }
        var effects: [Effect] = [.opened]
        if case .digest(let digest) = message {
            effects.append(.synced)
            if inbound.proven, digest.summary == engine.store.summary {
                effects.append(.peerHasOurView(inbound.sender))
            }
        }
        let replies = engine.receive(message, from: inbound.sender, now: now)
        absorbEvents()
        // Learn only after the engine: a frame that made its sender present (its record rode
        // along) teaches its address too, and the address must be known before the replies are
        // sealed, so that the salts sent to it are remembered and its echo can validate it.
        if inbound.proven, engine.store.isPresent(inbound.sender) {
            wire.learn(inbound.sender, at: inbound.source, overlay: OverlayAddress.meshPrefix(of: mesh))
            lastHeard[inbound.sender] = now
        }
        return effects + send(replies, replyingTo: inbound, now: now)
    }

    mutating func noteInputLoss() { engine.noteInputLoss() }

    /// The engine's timers.
    mutating func tick(now: Instant) -> [Effect] {
        let out = engine.tick(now: now)
        absorbEvents()
        return send(out, now: now) + ledgerTick(now: now)
    }

    mutating func publish(_ record: MemberRecord, decoded: NodeRecord, now: Instant) -> [Effect] {
        records[record.owner] = decoded
        let out = engine.publish(record, now: now)
        absorbEvents()
        return send(out, now: now)
    }

    /// Back from being away (stopped, asleep) or on another network: a round now, and the
    /// leader asked for its epoch (`GossipEngine.resume`).
    mutating func resume(now: Instant, unseen: Duration) -> [Effect] {
        let out = engine.resume(now: now, unseen: unseen)
        absorbEvents()
        return send(out, now: now)
    }

    mutating func leave(now: Instant) -> [Effect] {
        let out = engine.leave(now: now)
        absorbEvents()
        return send(out, now: now)
    }

    /// Membership events since the last call, the records and per-member state already brought
    /// up to date; the shell logs them and acts on them.
    mutating func takeEvents() -> [Happened] {
        defer { pending.removeAll() }
        return pending
    }

    /// The log's name for a member: its alias and short id, or the short id alone.
    func describe(_ id: NodeID) -> String {
        let alias = records[id]?.alias ?? ""
        return alias.isEmpty ? "\(id)" : "\(alias) (\(id))"
    }

    private mutating func absorbEvents() {
        var presence = false
        for event in engine.drainEvents() {
            switch event {
            case .joined(let id):
                refreshRecord(id)
                presence = true
            case .updated(let id):
                refreshRecord(id)
            case .pruned(let id):
                // Keep its record and addresses: the engine re-dials pruned members (a failed
                // member may come back, and after a partition the other half is "pruned"), and
                // a datagram to a member needs an address.
                lastHeard[id] = nil
                presence = true
            case .left(let id):
                lastHeard[id] = nil
                presence = true
            case .leaderChanged, .republishNeeded:
                break
            }
            let about: NodeID?
            switch event {
            case .joined(let id), .updated(let id), .pruned(let id), .left(let id): about = id
            case .leaderChanged(let leader): about = leader
            case .republishNeeded: about = nil
            }
            pending.append(Happened(event: event, who: about.map(describe) ?? "nobody"))
        }
        if presence { retainPerMemberState() }
    }

    /// Starts from what was saved: the store, where members were last heard from, the frame
    /// counter and the epoch line.
    mutating func restore(
        _ store: MemberStore, addresses: [NodeID: PeerAddress], wire restoredWire: MeshWire, epochs: EpochMemory?,
        downtime: Duration?, now: Instant
    ) {
        engine.restore(store)
        if let epochs { engine.restoreEpochs(epochs, downtime: downtime, now: now) }
        wire = restoredWire
        wire.restoreLearned(addresses)
        for member in engine.members { refreshRecord(member.owner) }
        retainPerMemberState()
    }

    // MARK: Sending

    /// Seals and sends. What goes back to the sender of `inbound` goes to the address its frame
    /// came from, within that frame's reply budget; the first reply that does not fit is
    /// replaced by a bare digest, whose answer echoes our salt and so validates the address
    /// (at most once per sender per 500 ms, see `substitutedAt`; otherwise it is dropped).
    private mutating func send(
        _ outgoing: [Outgoing], replyingTo inbound: MeshWire.Opened? = nil, now: Instant
    ) -> [Effect] {
        var effects: [Effect] = []
        var budget = inbound.flatMap { $0.budget.isUnlimited ? nil : $0.budget }
        var substituted = false
        for item in outgoing {
            do {
                // A member that holds us and came of age (present through a few epochs here) has
                // synced with the mesh, so it holds the leader too; a joiner may not yet.
                var shortLeader = false
                if case .heartbeat = item.message, case .member(let id) = item.to {
                    shortLeader = wire.session.holds(id) && engine.hasComeOfAge(id)
                }
                let bytes = try GossipMessageCodec.encode(item.message, shortLeader: shortLeader)
                switch item.to {
                case .bootstrap(let index):
                    guard bootstrap.indices.contains(index) else { continue }
                    effects.append(.send(try wire.sealIntroduction(bytes), to: bootstrap[index]))
                case .member(let id) where ledger?.isEvicted(id) == true:
                    continue
                case .member(let id) where id == inbound?.sender:
                    let address = inbound!.source
                    do {
                        effects.append(
                            .send(
                                try wire.seal(
                                    bytes, to: id, at: address, budget: &budget, underPrevious: inbound!.underPrevious),
                                to: address))
                    } catch FrameError.overBudget {
                        guard !substituted else { continue }
                        guard maySubstitute(for: id, now: now) else {
                            effects.append(.rejected("reply-over-budget"))
                            continue
                        }
                        substituted = true
                        let bare = GossipMessage.digest(Digest(summary: engine.store.summary, epoch: engine.epoch))
                        let frame = try wire.seal(GossipMessageCodec.encode(bare), to: id, at: address, budget: &budget)
                        effects += [.send(frame, to: address), .rejected("reply-over-budget")]
                    }
                case .member(let id):
                    guard let address = address(of: id) else { continue }
                    var unlimited: ReplyBudget?
                    effects.append(.send(try wire.seal(bytes, to: id, at: address, budget: &unlimited), to: address))
                }
            } catch {
                // Only a message too large for one datagram or a low-order key get here: the
                // engine bounds what it sends, and such a member cannot be talked to anyway.
                continue
            }
        }
        return effects
    }

    /// Whether a reply to `id` that does not fit its budget may be replaced by a small one now,
    /// noted if so: gossip replaces it by a bare digest, the ledger by a summary.
    mutating func maySubstitute(for id: NodeID, now: Instant) -> Bool {
        if let last = substitutedAt[id], now.since(last) < .milliseconds(500) { return false }
        noteSubstitution(for: id, now: now)
        return true
    }

    private mutating func noteSubstitution(for id: NodeID, now: Instant) {
        if substitutedAt.count >= 64 {
            substitutedAt = substitutedAt.filter { now.since($0.value) < .milliseconds(500) }
        }
        if substitutedAt.count >= 64 { substitutedAt.removeAll() }
        substitutedAt[id] = now
    }

    /// Where to send: the address a member was last heard from (it works through NAT), else
    /// the gossip port on the first endpoint of its record, else its overlay address: a client
    /// behind NAT publishes no endpoint, and another client can reach it only through the mesh.
    func address(of id: NodeID) -> PeerAddress? {
        if let address = wire.learned[id] { return address }
        guard let record = records[id] else { return nil }
        for endpoint in record.endpoints {
            switch endpoint.host {
            case .ipv4(let ip): return PeerAddress(ip: .v4(ip), port: record.gossipPort)
            case .ipv6(let ip): return PeerAddress(ip: .v6(ip), port: record.gossipPort)
            case .name: continue  // records carry addresses only; a name is never resolved
            }
        }
        guard overlayFallback else { return nil }
        return PeerAddress(ip: .v6(record.address), port: record.gossipPort)
    }

    // MARK: Per-member state

    mutating func retainAll() { retainPerMemberState() }

    /// Per-member state (frame session, addresses, decoded records) only for members the store
    /// holds: identities that came and were pruned, or left, cost nothing once they are gone.
    private mutating func retainPerMemberState() {
        var present = Set<NodeID>()
        var reachable = Set<NodeID>()
        for entry in engine.store.entries {
            if entry.isPresent {
                present.insert(entry.id)
                reachable.insert(entry.id)
            } else if entry.tombstone?.kind == .pruned {
                reachable.insert(entry.id)
            }
        }
        wire.retain(present: present, reachable: reachable)
        records = records.filter { reachable.contains($0.key) }
        lastHeard = lastHeard.filter { present.contains($0.key) }
    }

    private mutating func refreshRecord(_ id: NodeID) {
        guard let member = engine.store.record(for: id), let signed = try? SignedNodeRecord.decode(member.payload)
        else {
            records[id] = nil
            return
        }
        records[id] = signed.record
    }
}
