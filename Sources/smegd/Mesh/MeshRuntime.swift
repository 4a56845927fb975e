import Glibc
import GossipCRDT
import Logging
import MeshCore
import MeshLinux

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// One mesh on this node, as a shell around its `MeshNode`: it feeds the node datagrams, ticks
/// and the results of what it did, and performs the effects the node returns (sockets, kernel,
/// disk, logs, metrics). Nothing here decides; owning it all in one actor means nothing needs
/// a lock.
actor MeshRuntime {
    nonisolated let mesh: MeshID
    nonisolated let policy: RoutePolicy
    /// The mesh's IPv4 network, fixed by its charter.
    nonisolated let ipv4Prefix: IPPrefix?
    private var node: MeshNode
    private let transport: GossipTransport
    private let kernel: any MeshKernel
    private let state: StateDirectory
    private let metrics: MetricsRegistry
    private let clock: DaemonClock
    private let logger: Logger
    private let tickInterval: Duration
    private let leaveGrace: Duration
    /// Told when the members or their routes changed, so bridges into other meshes can follow.
    private let routesChanged: @Sendable () -> Void
    private var hostAddressesAt: GossipCRDT.Instant?
    private(set) var stopped = false
    /// Answers to `ping`'s probes, until the waiting request takes them.
    private var pingAnswers = PingAnswers()
    private var leaveRequested = false
    /// The transport's stale drops when the last tick looked.
    private var staleDropsSeen = 0

    init(
        persisted: PersistedMesh, mesh: MeshID, secret: MeshSecret, identity: NodeIdentity, policy: RoutePolicy,
        charter: MeshCharter?, settings: MeshSettings, transport: GossipTransport, state: StateDirectory,
        metrics: MetricsRegistry,
        clock: DaemonClock, logger: Logger, routesChanged: @escaping @Sendable () -> Void
    ) {
        self.mesh = mesh
        self.policy = policy
        self.ipv4Prefix = charter?.ipv4Prefix
        self.node = MeshNode(
            persisted: persisted, mesh: mesh, secret: secret, identity: identity, policy: policy, charter: charter,
            settings: settings)
        var logger = logger
        logger[metadataKey: "mesh"] = "\(mesh)"
        self.logger = logger
        self.kernel =
            settings.controlPlaneOnly
            ? NoKernel()
            : MeshInterface(
                name: InterfaceName.forMesh(mesh), mtu: settings.mtu, choice: settings.backend,
                exitTable: UInt32(node.options.listenPort), manageForwarding: settings.manageForwarding,
                log: { [logger] level, message in logger.log(level: Logger.Level(level), "\(message)") })
        self.transport = transport
        self.state = state
        self.metrics = metrics
        self.clock = clock
        self.tickInterval = settings.tickInterval
        self.leaveGrace = settings.leaveGrace
        self.routesChanged = routesChanged
    }

    var persisted: PersistedMesh { node.persisted }
    var backendName: String { kernel.backendName }

    // MARK: Life cycle

    /// Restores the remembered membership, brings WireGuard up from it at once (before any
    /// gossip), publishes this node's record and then runs the protocol until left or cancelled.
    func run() async {
        perform(node.restore(state.loadMembership(mesh.text), wallMillis: DaemonClock.wallMillis(), now: clock.now()))
        perform(node.restoreInvites(state.loadInvites(mesh.text)))
        refreshHostAddresses(now: clock.now())
        resolveBootstrap()
        perform(node.start(now: clock.now(), wallMillis: DaemonClock.wallMillis()))
        while !Task.isCancelled && !stopped {
            let now = clock.now()
            refreshHostAddresses(now: now)
            if node.needsBootstrap { resolveBootstrap() }
            let drops = transport.staleDrops
            if drops != staleDropsSeen {
                staleDropsSeen = drops
                node.noteInputLoss()
            }
            perform(node.tick(now: now, wallMillis: DaemonClock.wallMillis()))
            if leaveRequested { break }
            try? await Task.sleep(for: tickInterval)
        }
        if leaveRequested { await finishLeaving() } else if node.eviction == nil { persistNow() }
    }

    /// Stops gossip for this mesh; the interface stays up unless `removeInterface`.
    func shutdown(removeInterface: Bool) {
        if node.eviction == nil { persistNow() }
        if removeInterface { kernel.remove() }
        stopped = true
    }

    /// Announces a signed departure; `run` spreads it for a moment, then removes the interface
    /// and everything stored about the mesh.
    func leave() { leaveRequested = true }

    private func finishLeaving() async {
        perform(node.leave(now: clock.now()))
        let deadline = clock.now() + leaveGrace
        while clock.now() < deadline {
            try? await Task.sleep(for: tickInterval)
            perform(node.gossipTick(now: clock.now()))
        }
        kernel.remove()
        do {
            try state.remove(mesh.text)
        } catch {
            logger.error("left the mesh but could not delete its state: \(error)")
        }
        perform(node.metricsToClear())
        stopped = true
        logger.notice("left mesh \(mesh)")
    }

    // MARK: Inputs

    func receive(_ datagram: Datagram) {
        guard !stopped else { return }
        perform(
            node.receive(
                datagram.bytes, from: GossipAddressing.peer(datagram.source), now: clock.now(),
                wallMillis: DaemonClock.wallMillis()))
    }

    /// The host's links, addresses or routes changed (`LinkMonitor`): the node renews its
    /// sessions, republishes its endpoints if they moved and gossips at once.
    func networkChanged(_ what: String) {
        guard !stopped else { return }
        let now = clock.now()
        hostAddressesAt = now
        perform(
            node.networkChanged(
                hostEndpoints: kernel.hostEndpoints(port: node.options.listenPort), what: what, now: now,
                wallMillis: DaemonClock.wallMillis()))
    }

    /// Changes this node's alias, description or services, republishes and saves.
    func updateSelf(_ change: (inout PersistedMesh) -> Void) throws {
        let previous = node.persisted
        var updated = previous
        change(&updated)
        perform(try node.update(updated, now: clock.now()))
        do {
            try state.save(updated)
        } catch {
            node.revert(to: previous)
            throw error
        }
    }

    /// A token whose bootstrap endpoints are where this node's gossip answers (`gossipPort`).
    func inviteToken(gossipPort: UInt16) throws -> InviteToken {
        try node.inviteToken(gossipPort: gossipPort, local: kernel.hostEndpoints(port: gossipPort))
    }

    func routesForBridging(into target: MeshID) -> [AdvertisedRoute] { node.routesForBridging(into: target) }

    func setBridgedRoutes(_ offered: [AdvertisedRoute]) { perform(node.setBridgedRoutes(offered, now: clock.now())) }

    // MARK: Views

    func summary() -> MeshSummary { node.summary() }
    func detail() -> MeshDetail { node.detail(now: clock.now()) }
    /// The node's status, with how it reaches the other members counted from the member views,
    /// so `status` and `get` cannot disagree.
    func status() -> MeshStatus {
        let now = clock.now()
        var status = node.status(now: now)
        status.paths = node.pathCounts()
        return status
    }
    func dnsMesh() -> DNSZone.Mesh { node.dnsMesh() }
    /// A view of the node no other verb needs (access control's), so its verbs live in files of
    /// their own.
    func read<View: Sendable>(
        _ view: @Sendable (MeshNode) throws(OwnerActionError) -> View
    ) throws(OwnerActionError) -> View {
        try view(node)
    }

    // MARK: Ping

    func member(named name: String) throws(OwnerActionError) -> MeshNode.NamedMember { try node.member(named: name) }

    /// Sends `plan.count` probes to `key`, one every `plan.interval`, and waits for each up to
    /// `plan.timeout`: the path when the first went out, and each probe's round-trip time (nil
    /// when it timed out). Probes overlap, as `ping`'s do, so a slow answer does not delay the
    /// next probe. The answers arrive through `receive` while this waits, on the same actor;
    /// polling every 5 ms keeps that simple and adds at most 5 ms to a reply's wait, not to its
    /// round-trip time, which the node measures.
    func ping(_ key: WireGuardPublicKey, plan: PingRequest.Plan) async throws -> (path: PathView, replies: [PingReply?])
    {
        var replies = [PingReply?](repeating: nil, count: plan.count)
        var inFlight: [(probe: Int, nonce: UInt64, deadline: ContinuousClock.Instant)] = []
        defer { for probe in inFlight { pingAnswers.forget(probe.nonce) } }
        let path = node.pathView(of: key, now: clock.now())
        let start = ContinuousClock.now
        var sent = 0
        while sent < plan.count || !inFlight.isEmpty {
            let now = ContinuousClock.now
            if sent < plan.count, now >= start + plan.interval * sent {
                // A probe that could not go out (no record of the member yet) is a lost one.
                if let (nonce, effects) = node.ping(key, now: clock.now()) {
                    pingAnswers.expect(nonce)
                    inFlight.append((sent, nonce, now + plan.timeout))
                    perform(effects)
                }
                sent += 1
            }
            inFlight.removeAll { probe in
                if let rtt = pingAnswers.take(probe.nonce) {
                    replies[probe.probe] = PingReply(rttMilliseconds: rtt.seconds * 1000)
                    return true
                }
                guard now >= probe.deadline else { return false }
                pingAnswers.forget(probe.nonce)
                return true
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        return (path, replies)
    }

    // MARK: Effects

    private func perform(_ effects: [MeshNode.Effect]) {
        for effect in effects {
            switch effect {
            case .send(let frame, let peer):
                if let address = GossipAddressing.socketAddress(peer) { transport.send(frame, to: address) }
            case .apply(let desired):
                let started = ContinuousClock.now
                let result = Result { try kernel.apply(desired) }
                perform(node.applied(result, took: ContinuousClock.now - started, now: clock.now()))
            case .observeKernel:
                do {
                    perform(node.observed(try kernel.observePeers(), now: clock.now()))
                } catch {
                    perform(node.observationFailed(error, now: clock.now()))
                }
            case .restartHandshake(let key):
                perform(
                    node.restarted(
                        key, Result { try kernel.restartHandshake(with: key, unlessAfter: nil) }, now: clock.now()))
            case .renewHandshake(let key, let since):
                perform(
                    node.restarted(
                        key, Result { try kernel.restartHandshake(with: key, unlessAfter: since) }, now: clock.now()))
            case .save(let membership):
                do {
                    try state.save(membership, meshId: mesh.text)
                } catch {
                    perform(node.failed("cannot save membership", error))
                }
            case .saveMesh(let persisted):
                do {
                    try state.save(persisted)
                } catch {
                    perform(node.failed("cannot save mesh.json with the rotated secret", error))
                }
            case .saveInvites(let invites):
                // A grant that follows must not go out unless its use is on disk.
                do {
                    try state.save(invites, meshId: mesh.text)
                } catch {
                    perform(node.failed("cannot save invites; refusing to grant until it can", error))
                    return
                }
            case .log(let level, let message):
                logger.log(level: Logger.Level(level), "\(message)")
            case .metric(let update):
                metrics.apply(update)
            case .routesChanged:
                routesChanged()
            case .evicted(let eviction):
                tearDownEvicted(eviction)
            case .pingAnswered(let nonce, let rtt):
                pingAnswers.answered(nonce, rtt: rtt)
            }
        }
    }

    /// An owner evicted this node: the interface, routes and state go, and the eviction is
    /// kept for `status`. Nothing is announced: the mesh refuses this node's frames anyway.
    private func tearDownEvicted(_ eviction: MeshNode.Eviction) {
        guard !stopped else { return }
        stopped = true
        kernel.remove()
        do {
            try state.saveEviction(
                EvictedMesh(meshId: mesh.text, name: node.persisted.name, by: eviction.by, atMillis: eviction.at))
            try state.remove(mesh.text)
        } catch {
            logger.error("evicted, but could not clear the mesh's state: \(error)")
        }
        perform(node.metricsToClear())
        logger.warning("evicted from mesh \(mesh) by owner \(eviction.by); its interface and state are gone")
    }

    // MARK: Owners

    /// Runs an owner decision on the node (which checks it may) and performs what it returns.
    func decide(
        _ decision: (inout MeshNode, UInt64, GossipCRDT.Instant) throws(OwnerActionError) -> [MeshNode.Effect]
    ) throws(OwnerActionError) {
        perform(try decision(&node, DaemonClock.wallMillis(), clock.now()))
    }

    func owners() -> OwnersResponse { node.owners() }

    /// A new invitation issued by this node (an owner), saved before it is handed out.
    func invite(_ request: CreateInviteRequest, role: Admission.Role, gossipPort: UInt16) throws -> InviteResponse {
        let lifetime = request.expiresSeconds.map { Duration.seconds($0) } ?? MeshNode.defaultInviteLifetime
        let (invitation, effects) = try node.invite(
            lifetime: lifetime, uses: request.uses ?? 1, role: role, makesOwner: request.owner ?? false,
            gossipPort: gossipPort, local: kernel.hostEndpoints(port: gossipPort), wallMillis: DaemonClock.wallMillis())
        for case .saveInvites(let invites) in effects { try state.save(invites, meshId: mesh.text) }
        let view = node.invites(wallMillis: DaemonClock.wallMillis()).invites.first {
            $0.id == "\(invitation.ticket.id)"
        }
        var response = InviteResponse(
            token: invitation.text, meshId: mesh.text, bootstrap: invitation.bootstrap.map(\.description))
        response.invite = view
        return response
    }

    func invites() -> InvitesResponse { node.invites(wallMillis: DaemonClock.wallMillis()) }

    func revokeInvite(_ id: String) throws -> InvitesResponse {
        perform(try node.revokeInvite(id, wallMillis: DaemonClock.wallMillis(), now: clock.now()))
        return invites()
    }

    var hasOwners: Bool { node.charter != nil }

    private func persistNow() { perform([node.persist(wallMillis: DaemonClock.wallMillis())]) }

    /// The host's own addresses, which a peer without an operator endpoint publishes: read at
    /// start and every 10 s (a later republish then carries them).
    private func refreshHostAddresses(now: GossipCRDT.Instant) {
        if let last = hostAddressesAt, now.since(last) < .seconds(10) { return }
        hostAddressesAt = now
        node.hostEndpoints = kernel.hostEndpoints(port: node.options.listenPort)
    }

    /// Bootstrap endpoints may be names: resolved here, in the shell, never in the core.
    private func resolveBootstrap() {
        node.setBootstrap(GossipAddressing.peers(resolving: node.persisted.bootstrap, dualStack: transport.isIPv6))
    }
}
