import Foundation
import GossipCRDT
import Logging
import MeshCore
import NIOCore

/// One mesh on this node: the protocol engine, the sealed gossip of this mesh, the kernel
/// interface and the persisted state, all owned by one actor so nothing needs a lock.
///
/// The engine decides; this actor moves bytes in and out, turns membership into WireGuard
/// state (debounced, and only the differences) and writes what must survive a restart.
actor MeshRuntime {
    nonisolated let mesh: MeshID
    nonisolated let identity: NodeIdentity
    nonisolated let interfaceName: String
    private(set) var persisted: PersistedMesh

    let settings: MeshSettings
    /// Which routes members accept; fixed for the mesh's life.
    nonisolated let policy: RoutePolicy
    private let secret: MeshSecret
    /// Frames, the engine, addresses: every decision between a datagram and the membership.
    private var core: GossipCore
    private let validator: MeshRecordValidator
    private let transport: GossipTransport
    private let interface: MeshInterface
    private let state: StateDirectory
    private let metrics: MetricsRegistry
    private let clock: DaemonClock
    private var logger: Logger

    var engine: GossipEngine { core.engine }
    /// Decoded, verified records by member, refreshed when a version changes.
    var records: [NodeID: NodeRecord] { core.records }
    /// Who forwards what, from the present members; recomputed at each reconcile.
    private(set) var topology: MeshTopology
    /// Routes of this node's other meshes it advertises here (set by the bridge coordinator).
    private var bridgedRoutes: [AdvertisedRoute] = []
    /// Told when the members or their routes changed, so bridges into other meshes can follow.
    private let routesChanged: @Sendable () -> Void
    var lastFrame: ContinuousClock.Instant?
    private var reconcileDue: ContinuousClock.Instant?
    /// A client's new sessions that have not completed a handshake: when to start it again.
    private var handshakeRetries: [WireGuardKey: (due: ContinuousClock.Instant, attempts: Int)] = [:]
    private var persistDue: ContinuousClock.Instant?
    private var exportedRejections = RejectionCounts()
    private var exportedGauges: (Int, Bool)?
    private(set) var lastError: String?
    private(set) var stopped = false
    private var leaveRequested = false
    private var wakeUp: AsyncStream<Void>.Continuation?

    init(
        persisted: PersistedMesh, mesh: MeshID, secret: MeshSecret, identity: NodeIdentity, policy: RoutePolicy,
        settings: MeshSettings, transport: GossipTransport, state: StateDirectory, metrics: MetricsRegistry,
        clock: DaemonClock, logger: Logger, routesChanged: @escaping @Sendable () -> Void
    ) {
        self.persisted = persisted
        self.mesh = mesh
        self.identity = identity
        self.interfaceName = InterfaceName.forMesh(mesh)
        self.settings = settings
        self.policy = policy
        self.routesChanged = routesChanged
        self.topology = MeshTopology(mesh: mesh, members: [])
        self.secret = secret
        self.validator = MeshRecordValidator(
            mesh: mesh, policy: policy, endpoints: settings.endpointPolicy)
        self.transport = transport
        self.state = state
        self.metrics = metrics
        self.clock = clock
        var logger = logger
        logger[metadataKey: "mesh"] = "\(mesh)"
        self.logger = logger
        self.interface = MeshInterface(
            name: InterfaceName.forMesh(mesh), mtu: settings.mtu, choice: settings.backend,
            controlPlaneOnly: settings.controlPlaneOnly, exitTable: UInt32(persisted.options.resolvedListenPort),
            manageForwarding: settings.manageForwarding, logger: logger)
        self.core = GossipCore(
            engine: GossipEngine(
                me: identity.nodeID, config: settings.gossip,
                validator: MeshRecordValidator(mesh: mesh, policy: policy, endpoints: settings.endpointPolicy),
                signer: MeshGossipSigner(identity: identity, mesh: mesh), rng: SystemRandomNumberGenerator()),
            wire: MeshWire(session: FrameSession(mesh: mesh, secret: secret, identity: identity)), mesh: mesh,
            overlayFallback: !settings.controlPlaneOnly)
    }

    // MARK: Life cycle

    /// Restores the remembered membership, brings WireGuard up from it at once (before any
    /// gossip), publishes this node's record and then runs the protocol until left or cancelled.
    func run() async {
        restoreMembership()
        resolveBootstrap()
        do {
            try publishOwnRecord()
        } catch {
            lastError = "cannot publish this node's record: \(error)"
            logger.error("\(lastError!)")
        }
        reconcileNow()
        let (wakeUps, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        wakeUp = continuation
        defer { continuation.finish() }
        while !Task.isCancelled && !stopped {
            tick()
            if leaveRequested { break }
            try? await Task.sleep(for: settings.tickInterval)
        }
        _ = wakeUps
        if leaveRequested { await finishLeaving() } else { persistNow() }
    }

    /// Stops gossip for this mesh; the interface stays up unless `removeInterface`.
    func shutdown(removeInterface: Bool) {
        persistNow()
        if removeInterface { interface.remove() }
        stopped = true
    }

    /// Announces a signed departure; `run` spreads it for a moment, then removes the interface
    /// and everything stored about the mesh.
    func leave() {
        leaveRequested = true
    }

    private func finishLeaving() async {
        perform(core.leave(now: clock.now()))
        let deadline = ContinuousClock.now + settings.leaveGrace
        while ContinuousClock.now < deadline {
            try? await Task.sleep(for: settings.tickInterval)
            perform(core.tick(now: clock.now()))
        }
        interface.remove()
        do {
            try state.remove(mesh.text)
        } catch {
            logger.error("left the mesh but could not delete its state: \(error)")
        }
        clearMetrics()
        stopped = true
        logger.notice("left mesh \(mesh)")
    }

    // MARK: Gossip in and out

    /// Handles one datagram addressed to this mesh (`GossipCore.receive` decides).
    func receive(_ datagram: Datagram) {
        guard !stopped else { return }
        count("in", bytes: datagram.bytes.count)
        guard let source = GossipAddressing.peer(datagram.source) else {
            reject("bad-source")
            return
        }
        perform(core.receive(datagram.bytes, from: source, now: clock.now()))
        handleEvents()
    }

    private func tick() {
        perform(core.tick(now: clock.now()))
        handleEvents()
        exportRejections()
        let now = ContinuousClock.now
        if let due = reconcileDue, now >= due { reconcileNow() }
        if !handshakeRetries.isEmpty { retryHandshakes(now: now) }
        if let due = persistDue, now >= due { persistNow() }
        if engine.store.presentCount <= 1, core.bootstrap.isEmpty, !persisted.bootstrap.isEmpty { resolveBootstrap() }
        let gauges = (engine.store.presentCount, engine.isLeader)
        if exportedGauges.map({ $0 != gauges }) ?? true {
            exportedGauges = gauges
            metrics.set("smeg_members", Double(gauges.0), labels: ["mesh": mesh.text])
            metrics.set("smeg_is_leader", gauges.1 ? 1 : 0, labels: ["mesh": mesh.text])
        }
    }

    /// How long ago a present member was last heard from in a proven frame, for `get`.
    func secondsSinceHeard(_ id: NodeID) -> Double? {
        core.lastHeard[id].map { clock.now().since($0).seconds }
    }

    /// Carries out what the core decided.
    private func perform(_ effects: [GossipCore.Effect]) {
        for effect in effects {
            switch effect {
            case .send(let frame, let peer):
                guard let address = GossipAddressing.socketAddress(peer) else { continue }
                transport.send(frame, to: address)
                count("out", bytes: frame.count)
            case .rejected(let reason):
                reject(reason)
            case .legacySender(let sender):
                logger.warning(
                    "member \(core.describe(sender)) still speaks frame version 1; upgrade it (its frames are refused)")
            case .peerHasOurView(let sender):
                peerHasOurView(sender)
            case .opened:
                lastFrame = ContinuousClock.now
            case .synced:
                metrics.increment("smeg_syncs_total", labels: ["mesh": mesh.text])
            }
        }
    }

    // MARK: Membership changes

    private func handleEvents() {
        var changed = false
        for happened in core.takeEvents() {
            let who = happened.who
            switch happened.event {
            case .joined:
                logger.info("member joined: \(who)")
                changed = true
            case .updated:
                logger.debug("member updated: \(who)")
                changed = true
            case .pruned(let id) where id == identity.nodeID && !leaveRequested:
                // The leader thought us dead (a partition, a stall): we are alive, so come back.
                logger.notice("this node was pruned by the leader; republishing")
                do {
                    try publishOwnRecord(minimumVersion: engine.nextOwnVersion)
                } catch {
                    lastError = "cannot republish this node's record: \(error)"
                }
                changed = true
            case .pruned:
                logger.notice("member pruned (missed heartbeats): \(who)")
                changed = true
            case .left:
                logger.notice("member left: \(who)")
                changed = true
            case .leaderChanged:
                logger.info("leader is now \(who)")
            case .republishNeeded(let minimum):
                logger.notice("our record was superseded or removed; republishing at version \(minimum) or later")
                do {
                    try publishOwnRecord(minimumVersion: minimum)
                } catch {
                    lastError = "cannot republish this node's record: \(error)"
                }
            }
        }
        if changed {
            let now = ContinuousClock.now
            if reconcileDue == nil { reconcileDue = now + settings.reconcileDebounce }
            if persistDue == nil { persistDue = now + settings.persistInterval }
            routesChanged()
        }
    }

    // MARK: This node's record

    /// Signs and publishes this node's record with the current options, at a version above
    /// everything the mesh has seen of it.
    private func publishOwnRecord(minimumVersion: UInt64 = 0) throws {
        let options = persisted.options
        let role = options.resolvedRole
        let listenPort = options.resolvedListenPort
        var record = NodeRecord(
            identity: identity, mesh: mesh, endpoints: ownEndpoints(role: role, listenPort: listenPort),
            wireGuardPort: listenPort, gossipPort: settings.gossipPort, role: role,
            version: max(engine.nextOwnVersion, minimumVersion))
        record.alias = options.alias ?? ""
        record.description = options.description ?? ""
        record.services = persisted.services
        record.routes = MeshOptionsCheck.advertisedRoutes(options)
        for route in bridgedRoutes
        where record.routes.count < RecordLimits.maxRoutes
            && !record.routes.contains(where: { $0.prefix == route.prefix })
        {
            record.routes.append(route)
        }
        let signed = try SignedNodeRecord.sign(record, identity: identity, mesh: mesh, policy: policy)
        let member = MemberRecord(owner: identity.nodeID, version: record.version, payload: signed.encoded)
        perform(core.publish(member, decoded: record, now: clock.now()))
        handleEvents()
        persistDue = ContinuousClock.now
    }

    /// A peer publishes the operator's endpoint, or else the addresses of this host's other
    /// interfaces; a client publishes none (it is reached through the handshakes it starts).
    private func ownEndpoints(role: NodeRecord.Role, listenPort: UInt16) -> [Endpoint] {
        guard role == .peer else { return [] }
        if let text = persisted.options.endpoint, let endpoint = Endpoint(text) { return [endpoint] }
        return settings.controlPlaneOnly
            ? HostAddresses.loopbackEndpoint(port: listenPort) : HostAddresses.endpoints(port: listenPort)
    }

    /// Changes this node's alias, description or services and republishes.
    func updateSelf(_ change: (inout PersistedMesh) -> Void) throws {
        var updated = persisted
        change(&updated)
        let previous = persisted
        persisted = updated
        do {
            try publishOwnRecord()
            try state.save(persisted)
        } catch {
            persisted = previous
            throw error
        }
    }

    // MARK: First handshakes of a client

    /// A peer whose digest equals our store has our record, so it has added us (or will at its
    /// next reconcile): a handshake started now is answered.
    private func peerHasOurView(_ sender: NodeID) {
        guard let key = WireGuardKey(bytes: sender.bytes), let retry = handshakeRetries[key] else { return }
        let soon = ContinuousClock.now + settings.reconcileDebounce + .milliseconds(200)
        if soon < retry.due { handshakeRetries[key] = (soon, retry.attempts) }
    }

    /// Restarts the handshakes that are due, up to five times a session; after that WireGuard's
    /// own retry every 5 s carries on.
    private func retryHandshakes(now: ContinuousClock.Instant) {
        for (key, retry) in handshakeRetries where now >= retry.due {
            do {
                if try interface.restartHandshake(with: key), retry.attempts < 4 {
                    handshakeRetries[key] = (now + .seconds(1), retry.attempts + 1)
                    logger.debug("restarted the first handshake with \(key.base64)")
                } else {
                    handshakeRetries[key] = nil
                }
            } catch {
                handshakeRetries[key] = nil
                logger.warning("could not restart the handshake with \(key.base64): \(error)")
            }
        }
    }

    // MARK: Bridging

    /// What this mesh offers to be advertised into another mesh `target`: its members' prefix
    /// and the best routes its other members advertise, each with this mesh appended to the
    /// path. Routes this node advertises here itself, and paths that already crossed `target`,
    /// are left out: that is what makes a loop between bridges impossible.
    func routesForBridging(into target: MeshID) -> [AdvertisedRoute] {
        var routes = [AdvertisedRoute(prefix: OverlayAddress.meshPrefix(of: mesh), path: [mesh])]
        let me = identity.wireGuardPublicKey
        var best: [IPPrefix: AdvertisedRoute] = [:]
        for (id, record) in records where id != identity.nodeID && record.wireGuardKey != me {
            for route in record.routes where !route.path.contains(target) && !route.path.contains(mesh) {
                let extended = AdvertisedRoute(prefix: route.prefix, path: route.path + [mesh])
                guard extended.path.count <= RecordLimits.maxPathLength else { continue }
                if let current = best[route.prefix], current.hopCount <= extended.hopCount { continue }
                best[route.prefix] = extended
            }
        }
        routes += best.values.sorted { ($0.hopCount, $0.prefix) < ($1.hopCount, $1.prefix) }
        return routes
    }

    /// Replaces the routes bridged in from other meshes (only those this mesh's policy accepts)
    /// and republishes when they changed.
    func setBridgedRoutes(_ offered: [AdvertisedRoute]) {
        guard persisted.options.bridge == true else { return }
        let accepted = offered.filter { policy.violation(of: $0, in: mesh) == nil }
        guard accepted != bridgedRoutes else { return }
        bridgedRoutes = accepted
        logger.info(
            "bridging \(accepted.count) routes into this mesh: \(accepted.map(\.description).joined(separator: ", "))")
        do {
            try publishOwnRecord()
        } catch {
            lastError = "cannot publish bridged routes: \(error)"
            logger.error("\(lastError!)")
        }
    }

    // MARK: Kernel and disk

    var interfaceBackendName: String { interface.backendName }

    /// Members heard speaking frame version 1, for `status`.
    var legacyMembers: [String]? {
        let ids = core.wire.legacySenders.sorted().map { "\($0)" }
        return ids.isEmpty ? nil : ids
    }

    private func reconcileNow() {
        reconcileDue = nil
        let members = engine.members.compactMap { records[$0.owner] }
        let options = persisted.options
        let inputs = DesiredMeshState.Inputs(
            mesh: mesh, identity: identity, interfaceName: interfaceName,
            listenPort: options.resolvedListenPort, role: options.resolvedRole,
            keepalive: options.resolvedKeepalive, members: members)
        topology = DesiredMeshState.topology(for: inputs)
        let desired = DesiredMeshState.compute(inputs, topology: topology)
        let started = ContinuousClock.now
        do {
            let applied = try interface.apply(desired)
            let summary = applied.summary
            if options.resolvedRole == .client {
                for key in applied.added { handshakeRetries[key] = (ContinuousClock.now + .seconds(1), 0) }
            }
            let elapsed = ContinuousClock.now - started
            metrics.set("smeg_reconcile_seconds", elapsed.seconds, labels: ["mesh": mesh.text])
            metrics.increment("smeg_reconciles_total", labels: ["mesh": mesh.text])
            logger.debug("reconciled \(interfaceName): \(summary) in \(elapsed)")
            lastError = nil
        } catch {
            lastError = "reconcile \(interfaceName) failed: \(error)"
            logger.error("\(lastError!)")
            metrics.increment("smeg_reconcile_errors_total", labels: ["mesh": mesh.text])
            reconcileDue = ContinuousClock.now + .seconds(2)  // retry, the kernel may recover
        }
    }

    private func persistNow() {
        persistDue = nil
        var addresses: [String: String] = [:]
        for (id, address) in core.wire.learned { addresses[WireGuardPublicKey(nodeID: id).base64] = "\(address)" }
        var membership = MembershipSnapshot.capture(engine.store, lastAddresses: addresses)
        membership.frameCounter = core.wire.session.counterHighWater
        if let memory = engine.epochMemory {
            membership.epochs = PersistedEpochs(
                highest: memory.highest, line: memory.line, savedAt: Self.wallClockMillis())
        }
        do {
            try state.save(membership, meshId: mesh.text)
        } catch {
            lastError = "cannot save membership: \(error)"
            logger.error("\(lastError!)")
        }
    }

    /// Loads the last membership from disk, re-verifying every record; nothing unverified is
    /// restored.
    private func restoreMembership() {
        switch state.loadMembership(mesh.text) {
        case .absent:
            return
        case .corrupt(let problem):
            logger.error("\(problem)")
            return
        case .value(let saved):
            let restored = MembershipSnapshot.restore(saved, validator: validator)
            var addresses: [NodeID: PeerAddress] = [:]
            for (id, endpoint) in restored.addresses {
                switch endpoint.host {
                case .ipv4(let ip): addresses[id] = PeerAddress(ip: .v4(ip), port: endpoint.port)
                case .ipv6(let ip): addresses[id] = PeerAddress(ip: .v6(ip), port: endpoint.port)
                case .name: continue  // written from datagram sources, so never a name
                }
            }
            // A clock that went back (or a file from the future) cannot measure the downtime.
            let now = Self.wallClockMillis()
            let downtime = saved.epochs.flatMap { epochs in
                now >= epochs.savedAt ? Duration.milliseconds(Int64(clamping: now - epochs.savedAt)) : nil
            }
            // Counters must keep rising across restarts even if the wall clock went back.
            let wire = MeshWire(
                session: FrameSession(
                    mesh: mesh, secret: secret, identity: identity, counterHighWater: saved.frameCounter ?? 0))
            core.restore(
                restored.store, addresses: addresses, wire: wire,
                epochs: saved.epochs.map { EpochMemory(highest: $0.highest, line: $0.line) }, downtime: downtime,
                now: clock.now())
            let store = restored.store
            let counts = "\(store.presentCount) members, \(store.tombstoned.count) removals and \(store.floors.count)"
            logger.info("restored \(counts) version floors from disk (\(restored.refused) rejected)")
        }
    }

    private static func wallClockMillis() -> UInt64 {
        UInt64(clamping: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)))
    }

    /// Bootstrap endpoints may be names: resolved here, in the shell, never in the core.
    private func resolveBootstrap() {
        let dualStack = transport.isIPv6
        core.bootstrap = persisted.bootstrap.compactMap { text in
            guard let endpoint = Endpoint(text),
                let address = GossipAddressing.socketAddress(endpoint.host, port: endpoint.port, dualStack: dualStack)
            else { return nil }
            return GossipAddressing.peer(address)
        }
    }

    // MARK: Metrics

    private func count(_ direction: String, bytes: Int) {
        metrics.increment("smeg_gossip_frames_total", labels: ["mesh": mesh.text, "direction": direction])
        metrics.increment(
            "smeg_gossip_bytes_total", by: Double(bytes), labels: ["mesh": mesh.text, "direction": direction])
    }

    private func reject(_ reason: String) {
        metrics.increment("smeg_frames_rejected_total", labels: ["reason": reason])
    }

    private func exportRejections() {
        for reason in RejectReason.allCases {
            let fresh = engine.rejections[reason] - exportedRejections[reason]
            if fresh > 0 {
                metrics.increment("smeg_records_rejected_total", by: Double(fresh), labels: ["reason": reason.rawValue])
                exportedRejections.add(reason, fresh)
            }
        }
    }

    private func clearMetrics() {
        for name in ["smeg_members", "smeg_is_leader", "smeg_reconcile_seconds"] {
            metrics.clear(name, labels: ["mesh": mesh.text])
        }
    }
}
