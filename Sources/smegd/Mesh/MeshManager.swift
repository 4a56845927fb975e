import Glibc
import GossipCRDT
import Logging
import MeshCore

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Creates, joins, restores and leaves meshes, and answers the control API.
///
/// Each mesh runs as a child task of `run()`, so the daemon's structured task tree owns every
/// runtime: new meshes are handed to that task through a stream rather than started detached.
actor MeshManager: ControlService {
    let config: DaemonConfig
    let state: StateDirectory
    let transport: GossipTransport
    let directory: MeshDirectory
    private let metrics: MetricsRegistry
    private let clock: DaemonClock
    let logger: Logger
    private let started = ContinuousClock.now
    private let launches: AsyncStream<MeshRuntime>
    private let launcher: AsyncStream<MeshRuntime>.Continuation
    /// Rings when any mesh's members or routes change; bridges then recompute what they carry.
    private let routeChanges: AsyncStream<Void>
    private let routeChanged: AsyncStream<Void>.Continuation
    /// Meshes whose state is on disk but that could not be started, with the reason: `status`
    /// shows them, `join` refuses them and `leave` discards them.
    var unstarted: [String: String] = [:]

    init(
        config: DaemonConfig, state: StateDirectory, transport: GossipTransport, directory: MeshDirectory,
        metrics: MetricsRegistry, clock: DaemonClock, logger: Logger
    ) {
        self.config = config
        self.state = state
        self.transport = transport
        self.directory = directory
        self.metrics = metrics
        self.clock = clock
        self.logger = logger
        (launches, launcher) = AsyncStream.makeStream(of: MeshRuntime.self)
        (routeChanges, routeChanged) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    private var settings: MeshSettings {
        MeshSettings(config: config, gossipPort: UInt16(transport.localPort ?? config.gossipPort))
    }

    // MARK: Running

    /// Restores every persisted mesh, then runs all meshes until cancelled.
    ///
    /// A runtime whose `run` returns without having stopped was cancelled with the daemon (a
    /// left mesh is stopped), so it is shut down here, before it leaves the directory: the
    /// daemon cancels this task before it calls `shutdown()`, and by then the directory no
    /// longer lists the meshes, so `removeInterfacesOnShutdown` has to be honoured here.
    func run() async {
        for runtime in restore() { launch(runtime) }
        let removeInterfaces = config.removeInterfacesOnShutdown
        await withDiscardingTaskGroup { group in
            group.addTask { await self.followRouteChanges() }
            for await runtime in launches {
                group.addTask {
                    await runtime.run()
                    if await !runtime.stopped { await runtime.shutdown(removeInterface: removeInterfaces) }
                    await self.forget(runtime)
                }
            }
        }
    }

    /// Stops whatever mesh `run()` did not (one launched as the daemon was cancelled), flushing
    /// state; interfaces go only when configured so.
    func shutdown() async {
        launcher.finish()
        routeChanged.finish()
        for runtime in directory.all {
            await runtime.shutdown(removeInterface: config.removeInterfacesOnShutdown)
        }
    }

    private func launch(_ runtime: MeshRuntime) {
        directory.insert(runtime)
        launcher.yield(runtime)
        routeChanged.yield()
    }

    /// Keeps every bridging mesh's advertised routes equal to what the node's other meshes
    /// offer. Changes are coalesced: one recomputation per burst, at most five per second.
    private func followRouteChanges() async {
        for await _ in routeChanges {
            let runtimes = directory.all
            for target in runtimes where await target.persisted.options.bridge == true {
                var offered: [AdvertisedRoute] = []
                for source in runtimes where source.mesh != target.mesh {
                    offered += await source.routesForBridging(into: target.mesh)
                }
                await target.setBridgedRoutes(offered)
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }

    /// Reads every mesh under the state directory; damaged ones are reported and skipped.
    private func restore() -> [MeshRuntime] {
        var restored: [MeshRuntime] = []
        for meshId in (try? state.meshIds()) ?? [] {
            switch state.loadMesh(meshId) {
            case .absent:
                logger.warning("state directory \(state.directory(of: meshId)) has no mesh.json; ignoring it")
            case .corrupt(let problem):
                notStarted(meshId, problem)
            case .value(let persisted):
                do {
                    let stored = try StoredMesh.load(persisted, state: state)
                    restored.append(makeRuntime(stored))
                    logger.info("restored mesh \(meshId)")
                    if stored.charter == nil { logger.warning("\(StoredMesh.unsignedWarning(stored.mesh))") }
                } catch {
                    notStarted(meshId, "\(error)")
                }
            }
        }
        return restored
    }

    private func notStarted(_ meshId: String, _ problem: String) {
        unstarted[meshId] = problem
        logger.error("cannot restore mesh \(meshId): \(problem)")
    }

    private func makeRuntime(_ stored: StoredMesh) -> MeshRuntime {
        let signal = routeChanged
        return MeshRuntime(
            persisted: stored.persisted, mesh: stored.mesh, secret: stored.secret, identity: stored.identity,
            policy: stored.policy, charter: stored.charter, settings: settings, transport: transport, state: state,
            metrics: metrics,
            clock: clock, logger: logger, routesChanged: { signal.yield() })
    }

    // MARK: ControlService

    func status() async throws -> StatusResponse {
        var meshes: [MeshStatus] = []
        for runtime in directory.all { meshes.append(await runtime.status()) }
        for (meshId, problem) in unstarted.sorted(by: { $0.key < $1.key }) {
            meshes.append(
                MeshStatus(
                    meshId: meshId, interface: MeshID(meshId).map(InterfaceName.forMesh) ?? "-", members: 0,
                    leader: nil, lastSyncSecondsAgo: nil, lastError: problem, started: false))
        }
        for evicted in state.evictions() where MeshID(evicted.meshId).flatMap(directory.runtime(for:)) == nil {
            var status = MeshStatus(
                meshId: evicted.meshId, interface: MeshID(evicted.meshId).map(InterfaceName.forMesh) ?? "-",
                members: 0, leader: nil, lastSyncSecondsAgo: nil,
                lastError: "evicted by owner \(evicted.by); ask an owner for a new invite to come back, "
                    + "or run `smegctl leave \(evicted.meshId)` to forget it",
                started: false)
            status.evicted = EvictionView(by: evicted.by, atMillis: evicted.atMillis)
            meshes.append(status)
        }
        let backend: String
        if config.controlPlaneOnly {
            backend = "none"
        } else if let first = directory.all.first {
            backend = await first.backendName
        } else {
            backend = config.wireguardBackend.rawValue
        }
        return StatusResponse(
            version: SmegVersion.string, backend: backend, uptimeSeconds: (ContinuousClock.now - started).seconds,
            meshes: meshes)
    }

    func listMeshes() async throws -> MeshListResponse {
        var meshes: [MeshSummary] = []
        for runtime in directory.all { meshes.append(await runtime.summary()) }
        return MeshListResponse(meshes: meshes)
    }

    func createMesh(_ request: CreateMeshRequest) async throws -> CreateMeshResponse {
        if let name = request.name { try MeshOptionsCheck.validateName(name) }
        let policy = try MeshOptionsCheck.policy(request.policy)
        // This node's identity is the first owner key, so it exists before the mesh id that commits to it.
        let identity = try NodeIdentity.generate()
        let salt = try Sodium.randomBytes(MeshID.saltByteCount)
        guard let meshID = MeshID.committing(to: identity.signingKey, salt: salt) else {
            throw ControlError.unavailable("could not derive a mesh id")
        }
        let ipv4Prefix = try ipv4Prefix(for: meshID, requested: request.ipv4Prefix)
        let charter = try MeshCharter.sign(
            owner: identity, salt: salt, name: request.name, policy: policy, ipv4Prefix: ipv4Prefix)
        let mesh = charter.mesh
        try MeshOptionsCheck.validate(request.options, mesh: mesh, policy: policy, ipv4Prefix: ipv4Prefix)
        let secret = try MeshSecret.generate()
        let runtime = try await start(
            mesh: mesh, secret: secret, name: request.name, policy: policy, charter: charter, identity: identity,
            options: request.options, bootstrap: [])
        logger.notice("created mesh \(mesh)\(request.name.map { " (\($0))" } ?? "")")
        // The founder's address comes with its first reconcile; the answer should show it.
        for _ in 0..<40 where ipv4Prefix != nil {
            if await runtime.summary().ipv4Address != nil { break }
            try? await Task.sleep(for: .milliseconds(25))
        }
        // The quick start joins every other machine with this one invitation, so it admits many.
        let invitation = try await runtime.invite(
            CreateInviteRequest(expiresSeconds: Self.createInviteSeconds, uses: Self.createInviteUses), role: .member,
            gossipPort: gossipPort)
        return CreateMeshResponse(mesh: await runtime.summary(), token: invitation.token)
    }

    /// Joins with a token whose charter, if any, `InviteToken` has verified.
    ///
    /// A token without a charter is accepted when its route policy is the default: every mesh
    /// made before owners existed has no charter, and refusing them would strand those meshes.
    /// Such a token cannot be told from one whose charter a secret holder removed, so the mesh
    /// is marked unsigned (`settingsSigned: false` in the answer, `status` and `get`) and the
    /// join is logged with a warning; `smegctl join` repeats it. The default policy accepts
    /// nothing outside the mesh's own prefixes, so stripping the charter gains an attacker
    /// nothing there. A charterless policy that widens it (exits, bridges, extra prefixes) is
    /// exactly what a secret holder would forge, so it needs the operator's explicit
    /// `allowUnsignedSettings`. A join by mesh id and secret is charterless the same way.
    func joinMesh(_ request: JoinMeshRequest) async throws -> MeshSummary {
        if let text = request.token,
            text.trimmingWhitespace().lowercased().hasPrefix(Invitation.prefix)
        {
            return try await redeem(text, request)
        }
        let join = try JoinRequestParser.parse(request)
        if join.charter != nil {
            throw ControlError.badRequest(
                "this token is from before invitations: it carries the mesh secret, and this mesh has owners, "
                    + "who admit members with invitations now. Ask an owner for one (`smegctl invite MESH`)")
        }
        if join.charter == nil, join.policy != .default, request.allowUnsignedSettings != true {
            throw ControlError.badRequest(
                "this token's route policy allows more than the mesh's own prefixes, but no owner signed it "
                    + "(the token has no charter): anyone who holds the mesh secret can make such a token. "
                    + "Ask an owner for a token from `smegctl invite`; only for a mesh made before owners "
                    + "existed, and a token from someone you trust, join with --allow-unsigned-settings")
        }
        try MeshOptionsCheck.validate(request.options, mesh: join.mesh, policy: join.policy)
        try checkJoinable(join.mesh)
        let runtime = try await start(
            mesh: join.mesh, secret: join.secret, name: join.name, policy: join.policy, charter: join.charter,
            identity: try NodeIdentity.generate(), options: request.options,
            bootstrap: join.bootstrap.map(\.description))
        state.forgetEviction(join.mesh.text)
        logger.notice("joining mesh \(join.mesh) through \(join.bootstrap.map(\.description).joined(separator: ", "))")
        if join.charter == nil { logger.warning("\(StoredMesh.unsignedWarning(join.mesh))") }
        // Give the first exchange a moment so the answer already shows the members.
        for _ in 0..<40 {
            if await runtime.summary().members > 1 { break }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return await runtime.summary()
    }

    /// A mesh this node may join: not one it is in, nor one whose state it could not start.
    func checkJoinable(_ mesh: MeshID) throws {
        guard directory.runtime(for: mesh) == nil else {
            throw ControlError.conflict("this node is already in mesh \(mesh)")
        }
        if let problem = unstarted[mesh.text] {
            throw ControlError.conflict(
                "this node has state for mesh \(mesh) that could not be started (\(problem)); "
                    + "run `smegctl leave \(mesh)` to discard it first")
        }
    }

    func mesh(_ id: String) async throws -> MeshDetail {
        try await find(id).detail()
    }

    /// Answers once the departure has spread and the mesh's interface and state are gone.
    func leaveMesh(_ id: String) async throws {
        if MeshID(id).flatMap(directory.runtime(for:)) == nil, state.evictions().contains(where: { $0.meshId == id }) {
            state.forgetEviction(id)
            logger.notice("forgot the eviction from mesh \(id)")
            return
        }
        if unstarted[id] != nil {
            try state.remove(id)
            unstarted[id] = nil
            logger.notice("discarded the state of mesh \(id), which could not be started")
            return
        }
        let runtime = try await find(id)
        logger.notice("leaving mesh \(runtime.mesh)")
        await runtime.leave()
        let deadline = ContinuousClock.now + settings.leaveGrace + .seconds(5)
        while await !runtime.stopped, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        forget(runtime)
    }

    /// Drops a mesh that stopped; bridges stop advertising it.
    func forget(_ runtime: MeshRuntime) {
        directory.remove(runtime.mesh)
        routeChanged.yield()
    }

    func setAlias(_ id: String, _ value: String) async throws -> MeshDetail {
        try await update(id) { $0.options.alias = value.isEmpty ? nil : value }
    }

    func setDescription(_ id: String, _ value: String) async throws -> MeshDetail {
        try await update(id) { $0.options.description = value.isEmpty ? nil : value }
    }

    func setService(_ id: String, name: String, value: String) async throws -> MeshDetail {
        try await update(id) { $0.services[name] = value }
    }

    func deleteService(_ id: String, name: String) async throws -> MeshDetail {
        let runtime = try await find(id)
        guard await runtime.persisted.services[name] != nil else {
            throw ControlError.notFound("this node advertises no service '\(name)' in mesh \(runtime.mesh)")
        }
        return try await update(id) { $0.services[name] = nil }
    }

    func graph() async throws -> GraphResponse {
        var meshes: [MeshDetail] = []
        for runtime in directory.all { meshes.append(await runtime.detail()) }
        return GraphResponse(meshes: meshes)
    }

    // MARK: Helpers

    /// Stores a new mesh and starts it. The key is written before mesh.json, so a crash in
    /// between leaves a directory that restore skips, never a mesh without its key; the mesh
    /// is then loaded back exactly as a restart would load it.
    func start(
        mesh: MeshID, secret: MeshSecret, name: String?, policy: RoutePolicy, charter: MeshCharter?,
        identity: NodeIdentity, options: MeshOptions, bootstrap: [String], admission: OwnerStatement? = nil
    ) async throws -> MeshRuntime {
        var options = options
        if options.listenPort == nil { options.listenPort = await freeListenPort() }
        var persisted = PersistedMesh(
            meshId: mesh.text, name: name, secret: Data(secret.bytes).base64EncodedString(), options: options,
            bootstrap: bootstrap, policy: policy == .default ? nil : RoutePolicyView(policy),
            charter: PersistedMesh.encode(charter))
        persisted.admission = admission.map { Data($0.bytes).base64EncodedString() }
        try state.prepare()
        let stored: StoredMesh
        do {
            try state.saveIdentity(identity, meshId: mesh.text)
            try state.save(persisted)
            stored = try StoredMesh.load(persisted, state: state)
        } catch {
            try? state.remove(mesh.text)
            throw ControlError(status: 500, message: "cannot store mesh \(mesh): \(error)")
        }
        let runtime = makeRuntime(stored)
        launch(runtime)
        return runtime
    }

    func update(_ id: String, _ change: @Sendable (inout PersistedMesh) -> Void) async throws -> MeshDetail {
        let runtime = try await find(id)
        do {
            try await runtime.updateSelf(change)
        } catch let rejection as RecordRejection {
            throw ControlError.badRequest("\(rejection)")
        }
        return await runtime.detail()
    }

    /// Finds a mesh by id, else by name. Names are the operator's and need not be unique (two
    /// `create --name home`), so a name two meshes share is refused with 409 rather than
    /// guessed: acting on the wrong mesh (leaving it, say) cannot be undone.
    func find(_ idOrName: String) async throws -> MeshRuntime {
        if let mesh = MeshID(idOrName), let runtime = directory.runtime(for: mesh) { return runtime }
        var named: [MeshRuntime] = []
        for runtime in directory.all {
            if await runtime.persisted.name == idOrName { named.append(runtime) }
        }
        if named.count == 1 { return named[0] }
        if named.count > 1 {
            throw ControlError.conflict(
                "\(named.count) meshes are named '\(idOrName)' (\(named.map(\.mesh.text).joined(separator: ", "))); "
                    + "use the mesh id")
        }
        throw ControlError.notFound(
            "this node is in no mesh '\(idOrName)'; `smegctl list` shows the meshes it is in")
    }

    /// WireGuard listen ports count up from 51820, skipping ports other meshes of this node use.
    private func freeListenPort() async -> Int {
        var used: Set<Int> = []
        for runtime in directory.all { used.insert(await runtime.persisted.options.listenPort ?? 0) }
        var port = 51820
        while used.contains(port) { port += 1 }
        return port
    }

    func inviteToken(_ runtime: MeshRuntime) async throws -> InviteToken {
        do {
            return try await runtime.inviteToken(gossipPort: UInt16(transport.localPort ?? config.gossipPort))
        } catch {
            throw ControlError(status: 500, message: "mesh \(runtime.mesh): \(error)")
        }
    }
}
