import GossipCRDT

/// Everything this node decides about one mesh, with no socket, kernel, disk, clock or logger
/// of its own: datagrams, ticks, kernel results and operator changes in; effects out. The
/// `MeshRuntime` actor feeds it and performs what it returns, so the daemon's per-mesh logic
/// (when to publish, reconcile, retry a handshake, persist; what to log and count) runs in one
/// process in tests, the way `GossipEngine` does for the protocol.
public struct MeshNode {
    /// What the shell must do after an input, in order.
    public enum Effect {
        case send([UInt8], to: PeerAddress)
        /// Bring the kernel to this state; the result goes back through `applied`.
        case apply(DesiredMeshState)
        /// Read the device's peers; what it reports goes back through `observed`.
        case observeKernel
        /// Start a client's first handshake again; the result goes back through `restarted`.
        case restartHandshake(WireGuardKey)
        /// Start the handshake with a peer again unless one completed after `after` (wall
        /// seconds): a session renewed after this node was away or its network changed, which
        /// the other side may have dropped. The result goes back through `restarted`.
        case renewHandshake(WireGuardKey, after: Double)
        /// Write the membership file.
        case save(PersistedMembership)
        /// Write the invites this node issued, before any effect that follows (a grant).
        case saveInvites(PersistedInvites)
        /// Write mesh.json (the secret changed), before any effect that follows.
        case saveMesh(PersistedMesh)
        case log(LogLevel, String)
        case metric(MetricUpdate)
        /// The members or their routes changed: bridges into other meshes follow.
        case routesChanged
        /// An owner evicted this node: tear the mesh down here and remember who did it. The
        /// node does nothing more for this mesh.
        case evicted(Eviction)
        /// The answer to the `ping` that returned this nonce came back after `rtt`.
        case pingAnswered(nonce: UInt64, rtt: Duration)
    }

    /// Who evicted this node, for the shell to keep and `status` to show.
    public struct Eviction: Equatable, Sendable {
        /// The evicting owner's key, base64, and its alias when known.
        public var by: String
        /// Milliseconds since 1970, by the owner's clock.
        public var at: UInt64
    }

    public let mesh: MeshID
    public let identity: NodeIdentity
    /// The route policy the charter signed (or the token carried, for meshes without owners).
    let charterPolicy: RoutePolicy
    /// The owner-signed settings, when the mesh has an owner (verified by whoever loaded them).
    public let charter: MeshCharter?
    public let settings: MeshSettings
    /// The current mesh secret (it changes when an owner rotates it) and its generation.
    public internal(set) var secret: MeshSecret
    public internal(set) var secretGeneration: UInt64
    /// This node's own request for the current secret, awaiting an answer.
    var pendingSecretRequest: (nonce: [UInt8], at: Instant)?
    /// Since when the ledger has named a newer secret than this node holds.
    var behindSince: Instant?
    /// The wall clock at the last input, for what is stamped outside a tick.
    var lastWallMillis: UInt64 = 0
    var validator: MeshRecordValidator
    public internal(set) var persisted: PersistedMesh
    public private(set) var options: NodeOptions
    /// Frames, the engine, addresses: every decision between a datagram and the membership.
    var gossip: GossipCore
    /// Who forwards what, from the present members; recomputed at each reconcile.
    var topology: MeshTopology
    /// Routes of this node's other meshes it advertises here (set by the bridge coordinator).
    var bridgedRoutes: [AdvertisedRoute] = []
    /// The host's own addresses, which a peer without an operator endpoint publishes; refreshed
    /// by the shell.
    public var hostEndpoints: [Endpoint] = []
    private(set) var lastFrame: Instant?
    var lastError: String?
    var reconcileDue: Instant?
    var persistDue: Instant?
    /// Sessions waiting for a handshake: a client's new sessions that have not completed their
    /// first, and every session renewed after this node was away or its network changed. When
    /// to start each again.
    var handshakeRetries: [WireGuardKey: HandshakeRetry] = [:]
    /// The monotonic and wall clocks at the last tick: a tick far too late, or a wall clock that
    /// ran ahead of the monotonic one, means this node was away (`MeshNode+Roaming`).
    var lastTick: (now: Instant, wallMillis: UInt64)?
    /// Since when, and why, this node is catching up after being away or a network change.
    public internal(set) var reconnect: Reconnect?
    /// Clients pruned a moment ago, with when: their sessions stay for `prunedClientGrace`.
    var prunedClients: [NodeID: Instant] = [:]
    /// What the device last reported of its peers (`observed`).
    var kernelPeers: [WireGuardKey: KernelPeer] = [:]
    private var exportedRejections = RejectionCounts()
    private var exportedGauges: (members: Int, leads: Bool)?
    public private(set) var leaving = false
    /// Whether `start` lets a founder make the mesh require admissions; off only in tests that
    /// stand in for a founder still running a version from before admissions.
    var adoptsAdmissions = true
    /// The invites this node issued as an owner.
    var inviteBook = InviteBook()
    /// Join frames answered in the current second.
    var joinWindow: (last: Instant?, tokens: Double) = (nil, 0)
    /// Set once an owner evicted this node: nothing more is sent or applied.
    public internal(set) var eviction: Eviction?
    /// Who has which IPv4 overlay address among the present members, as of the last
    /// reconcile; nil when the mesh has no IPv4 prefix.
    public internal(set) var ipv4: IPv4Assignment?
    /// The address claim each record's admission makes, kept with the admission bytes it came
    /// from, so a signature is checked once per admission, not at every reconcile.
    var admissionClaims: [NodeID: CarriedAdmission] = [:]
    /// When this node, as an owner, last gave a member a new IPv4 address.
    var readmittedAt: [SigningPublicKey: Instant] = [:]
    /// Direct paths: candidates, punching, probes and pings (`MeshNode+Paths`).
    var paths = PathState()

    /// One peer as the device reports it.
    public struct KernelPeer: Equatable, Sendable {
        /// Seconds since the epoch of the last completed handshake; nil before the first.
        public var lastHandshake: Double?
        /// Where the device sends to now (learnt from the peer's packets when it roams).
        public var endpoint: WireGuardEndpoint?
        /// Bytes received from and sent to the peer: a direct path that sends and hears
        /// nothing back is probed (`DirectPaths`).
        public var receivedBytes: UInt64
        public var sentBytes: UInt64

        public init(
            lastHandshake: Double?, endpoint: WireGuardEndpoint? = nil, receivedBytes: UInt64 = 0, sentBytes: UInt64 = 0
        ) {
            self.lastHandshake = lastHandshake
            self.endpoint = endpoint
            self.receivedBytes = receivedBytes
            self.sentBytes = sentBytes
        }

        /// Whether a handshake completed after `since` (wall seconds; nil: ever).
        public func handshook(after since: Double?) -> Bool { MeshNode.handshake(lastHandshake, isAfter: since) }
    }

    /// Whether a handshake at `last` (wall seconds, nil: never) completed after `since` (nil:
    /// at any time): the rule the core and the kernel side share for `restartHandshake`.
    public static func handshake(_ last: Double?, isAfter since: Double?) -> Bool {
        guard let last, last > 0 else { return false }
        return since.map { last > $0 } ?? true
    }

    struct HandshakeRetry: Equatable {
        var due: Instant
        var attempts: Int
        /// A handshake must complete after this (wall seconds) to end the retries; nil for a
        /// first handshake, which any handshake ends.
        var since: Double? = nil
    }

    public init(
        persisted: PersistedMesh, mesh: MeshID, secret: MeshSecret, identity: NodeIdentity, policy: RoutePolicy,
        charter: MeshCharter? = nil, settings: MeshSettings,
        rng: some RandomNumberGenerator & Sendable = SystemRandomNumberGenerator()
    ) {
        self.persisted = persisted
        self.options = NodeOptions(persisted.options)
        self.mesh = mesh
        self.secret = secret
        self.secretGeneration = persisted.secretGeneration ?? 0
        self.identity = identity
        self.charterPolicy = policy
        self.charter = charter
        self.settings = settings
        self.topology = MeshTopology(mesh: mesh, members: [])
        let ledger = charter.map { OwnerLedger(mesh: mesh, founder: $0.owner) }
        let validator = MeshRecordValidator(
            mesh: mesh, policy: policy, endpoints: settings.endpointPolicy, ledger: ledger,
            requiresAdmissions: persisted.admission != nil, me: identity.nodeID)
        self.validator = validator
        self.gossip = GossipCore(
            engine: GossipEngine(
                me: identity.nodeID, config: settings.gossip, validator: validator,
                signer: MeshGossipSigner(identity: identity, mesh: mesh), rng: rng),
            wire: MeshWire(session: FrameSession(mesh: mesh, secret: secret, identity: identity)), mesh: mesh,
            overlayFallback: !settings.controlPlaneOnly)
        gossip.ledger = ledger
    }

    public var engine: GossipEngine { gossip.engine }
    /// The route policy in force: the owners' newest settings, else the charter's.
    public var policy: RoutePolicy { gossip.ledger?.settings?.policy ?? charterPolicy }
    /// The mesh's name in force, likewise.
    public var name: String? { gossip.ledger?.settings.map(\.name) ?? persisted.name }
    /// Present members the owners have not evicted: an evicted member stays in the store until
    /// the leader prunes it (its acknowledgements are refused), but nothing here serves it.
    var liveMembers: [MemberRecord] {
        guard let ledger = gossip.ledger, !ledger.evicted.isEmpty else { return engine.members }
        return engine.members.filter { !ledger.isEvicted($0.owner) }
    }
    public var records: [NodeID: NodeRecord] { gossip.records }
    public var interfaceName: String { InterfaceName.forMesh(mesh) }
    var labels: [String: String] { ["mesh": mesh.text] }

    /// Nothing known but ourselves and no bootstrap address resolved: the shell resolves the
    /// token's bootstrap names again.
    public var needsBootstrap: Bool {
        engine.store.presentCount <= 1 && gossip.bootstrap.isEmpty && !persisted.bootstrap.isEmpty
    }

    // MARK: Inputs

    /// After the remembered membership is restored: publish this node's record and bring the
    /// kernel up from what is known, before any gossip.
    public mutating func start(now: Instant, wallMillis: UInt64) -> [Effect] {
        var effects = adoptAdmissions(now: now, wallMillis: wallMillis)
        effects += publishOwnRecord(now: now, failure: "cannot publish this node's record")
        effects += reconcile(now: now)
        return effects
    }

    /// One datagram for this mesh from `source` (nil: a source address that is no peer).
    public mutating func receive(
        _ bytes: [UInt8], from source: PeerAddress?, now: Instant, wallMillis: UInt64
    )
        -> [Effect]
    {
        guard eviction == nil else { return [] }
        var effects = [Effect.metric(.frame("in", bytes: bytes.count, mesh: mesh))]
        guard let source else { return effects + [.metric(.rejected("bad-source"))] }
        lastWallMillis = wallMillis
        if JoinMessage.isJoinFrame(bytes) {
            return effects + receiveJoin(bytes, from: source, now: now, wallMillis: wallMillis)
        }
        effects += perform(gossip.receive(bytes, from: source, now: now), now: now)
        return effects + handleEvents(now: now)
    }

    /// The host dropped received datagrams unread (`GossipEngine.noteInputLoss`).
    public mutating func noteInputLoss() { gossip.noteInputLoss() }

    public mutating func tick(now: Instant, wallMillis: UInt64) -> [Effect] {
        guard eviction == nil else { return [] }
        lastWallMillis = wallMillis
        var effects = noticeWake(now: now, wallMillis: wallMillis)
        effects += perform(gossip.tick(now: now), now: now)
        effects += handleEvents(now: now)
        effects += exportRejections()
        if let due = reconcileDue, now >= due { effects += reconcile(now: now) }
        effects += roamingTick(now: now, wallMillis: wallMillis)
        effects += retryHandshakes(now: now)
        effects += pathsTick(now: now)
        if behindSince != nil { effects += catchUpIfBehind(now: now) }
        if let due = persistDue, now >= due { effects.append(persist(wallMillis: wallMillis)) }
        let gauges = (members: engine.store.presentCount, leads: engine.isLeader)
        if exportedGauges.map({ $0 != gauges }) ?? true {
            exportedGauges = gauges
            effects.append(.metric(.set("smeg_members", Double(gauges.members), labels: labels)))
            effects.append(.metric(.set("smeg_is_leader", gauges.leads ? 1 : 0, labels: labels)))
        }
        return effects
    }

    /// Where the token's bootstrap endpoints are now (the shell resolves names).
    public mutating func setBootstrap(_ addresses: [PeerAddress]) { gossip.bootstrap = addresses }

    /// Announces a signed departure; the shell keeps ticking for the leave grace.
    public mutating func leave(now: Instant) -> [Effect] {
        leaving = true
        return perform(gossip.leave(now: now), now: now)
    }

    /// Left: what to clear from the metrics.
    public func metricsToClear() -> [Effect] {
        [
            "smeg_members", "smeg_is_leader", "smeg_reconcile_seconds", "smeg_direct_paths", "smeg_punching_paths",
            "smeg_relayed_paths",
        ].map { .metric(.clear($0, labels: labels)) }
    }

    /// Something the shell could not do (a write, a publish): shown in `status` and logged.
    public mutating func failed(_ what: String, _ error: any Error) -> [Effect] {
        lastError = "\(what): \(error)"
        return [.log(.error, lastError!)]
    }

    /// Replaces the stored mesh after an operator change (alias, description, services) and
    /// republishes; the caller saves it once this succeeded.
    public mutating func update(_ updated: PersistedMesh, now: Instant) throws -> [Effect] {
        let previous = (persisted, options)
        persisted = updated
        options = NodeOptions(updated.options)
        do {
            return try signAndPublish(now: now)
        } catch {
            (persisted, options) = previous
            throw error
        }
    }

    /// Puts the stored mesh back after the shell could not save an update (the record that
    /// went out stays; the next publish carries the restored options).
    public mutating func revert(to previous: PersistedMesh) {
        persisted = previous
        options = NodeOptions(previous.options)
    }

    /// Gossip only, while a departure spreads: nothing is reconciled or saved any more.
    public mutating func gossipTick(now: Instant) -> [Effect] {
        perform(gossip.tick(now: now), now: now)
    }

    // MARK: Gossip effects and membership events

    mutating func perform(_ effects: [GossipCore.Effect], now: Instant) -> [Effect] {
        var out: [Effect] = []
        for effect in effects {
            switch effect {
            case .send(let frame, let peer):
                out.append(.send(frame, to: peer))
                out.append(.metric(.frame("out", bytes: frame.count, mesh: mesh)))
            case .rejected(let reason):
                out.append(.metric(.rejected(reason)))
            case .legacySender(let sender):
                out.append(
                    .log(
                        .warning,
                        "member \(gossip.describe(sender)) still speaks frame version 1; upgrade it (its frames are refused)"
                    ))
            case .peerHasOurView(let sender):
                peerHasOurView(sender, now: now)
            case .opened:
                lastFrame = now
            case .synced:
                out.append(.metric(.increment("smeg_syncs_total", labels: labels)))
            case .ledgerChanged(let added):
                out += ledgerChanged(added, now: now)
                out += catchUpIfBehind(now: now)
            case .secretOffered(let generation, let sealed):
                out += secretOffered(generation: generation, sealed: sealed, now: now)
            case .undecryptable(let source):
                out += undecryptable(from: source, now: now)
            case .path(let message, let sender, let source):
                out += receivePath(message, from: sender, source: source, now: now)
            }
        }
        return out
    }

    mutating func handleEvents(now: Instant) -> [Effect] {
        var effects: [Effect] = []
        var changed = false
        for happened in gossip.takeEvents() {
            let who = happened.who
            switch happened.event {
            case .joined(let id):
                effects.append(.log(.info, "member joined: \(who)"))
                prunedClients[id] = nil
                changed = true
            case .updated:
                effects.append(.log(.debug, "member updated: \(who)"))
                changed = true
            case .pruned(let id) where id == identity.nodeID && !leaving:
                // The leader thought us dead (a partition, a stall): we are alive, so come back.
                effects.append(.log(.notice, "this node was pruned by the leader; republishing"))
                effects += publishOwnRecord(
                    now: now, minimumVersion: engine.nextOwnVersion, failure: "cannot republish this node's record")
                effects += wasPruned(now: now)
                changed = true
            case .pruned(let id):
                effects.append(.log(.notice, "member pruned (missed heartbeats): \(who)"))
                notePruned(id, now: now)
                changed = true
            case .left(let id):
                effects.append(.log(.notice, "member left: \(who)"))
                prunedClients[id] = nil
                changed = true
            case .leaderChanged:
                effects.append(.log(.info, "leader is now \(who)"))
            case .republishNeeded(let minimum):
                effects.append(
                    .log(.notice, "our record was superseded or removed; republishing at version \(minimum) or later"))
                effects += publishOwnRecord(
                    now: now, minimumVersion: minimum, failure: "cannot republish this node's record")
            }
        }
        if changed {
            if reconcileDue == nil { reconcileDue = now + settings.reconcileDebounce }
            if persistDue == nil { persistDue = now + settings.persistInterval }
            effects.append(.routesChanged)
        }
        return effects
    }

    private mutating func exportRejections() -> [Effect] {
        var effects: [Effect] = []
        for reason in RejectReason.allCases {
            let fresh = engine.rejections[reason] - exportedRejections[reason]
            guard fresh > 0 else { continue }
            effects.append(
                .metric(
                    .increment("smeg_records_rejected_total", by: Double(fresh), labels: ["reason": reason.rawValue])))
            exportedRejections.add(reason, fresh)
        }
        return effects
    }
}
