import Logging
import MeshCore
import MeshLinux
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The whole daemon as one service: the gossip socket, the control socket, the metrics port
/// and every mesh, run as children of one task group so that shutdown reaches all of them.
struct Daemon: Service {
    let config: DaemonConfig
    let logger: Logger

    func run() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let metrics = MetricsRegistry()
        Self.declareMetrics(metrics)
        let state = StateDirectory(root: config.stateDir)
        try state.prepare()
        for path in state.removeStaleTemporaries() {
            logger.notice("removed \(path), a temporary file left by a write that was interrupted")
        }
        let transport = try GossipTransport.bind(host: config.gossipBind, port: config.gossipPort, logger: logger)
        logger.info("gossip on udp \(config.gossipBind) port \(transport.localPort ?? config.gossipPort)")
        let directory = MeshDirectory()
        let manager = MeshManager(
            config: config, state: state, transport: transport, directory: directory, metrics: metrics,
            clock: DaemonClock(), logger: logger)
        let names = try NameService.bind(config: config, directory: directory, metrics: metrics, logger: logger)
        let control = ControlServer(
            path: config.socket, group: config.socketGroup,
            router: ControlRouter(service: manager, hosts: names.zones), logger: logger,
            maximumConnections: config.controlConnections)
        let controlListener = try await control.bind(on: group)
        logger.info("control API on \(config.socket)")
        var metricsServer: (MetricsEndpoint, HTTPServer.Listener)?
        if let listen = config.metricsListen, let (host, port) = MetricsEndpoint.hostAndPort(listen) {
            let endpoint = MetricsEndpoint(registry: metrics, logger: logger)
            metricsServer = (endpoint, try await endpoint.http.bind(host: host, port: port, on: group))
            logger.info("metrics on http://\(listen)/metrics")
        }
        // Without a data plane there is nothing to renew, and hundreds of such daemons share a host.
        var monitor: LinkMonitor?
        if !config.controlPlaneOnly {
            do {
                monitor = try LinkMonitor.start()
            } catch {
                logger.warning(
                    "cannot watch the host's links, addresses and routes (\(error)); network changes are noticed only by the timers"
                )
            }
        }
        logger.notice(
            "smegd \(SmegVersion.string) started\(config.controlPlaneOnly ? " in control-plane-only mode" : "")")

        await withTaskCancellationOrGracefulShutdownHandler {
            await withDiscardingTaskGroup { tasks in
                tasks.addTask { await manager.run() }
                tasks.addTask { try? await control.serve(controlListener) }
                tasks.addTask { await names.run() }
                if let (endpoint, listener) = metricsServer {
                    tasks.addTask { try? await endpoint.http.serve(listener) }
                }
                tasks.addTask {
                    await Self.dispatch(transport: transport, directory: directory, metrics: metrics, logger: logger)
                }
                tasks.addTask { await Self.dispatchJoins(transport: transport, directory: directory, metrics: metrics) }
                tasks.addTask { await Self.watchSends(transport: transport, metrics: metrics, logger: logger) }
                if let monitor {
                    tasks.addTask { await Self.followNetwork(monitor, directory: directory, logger: logger) }
                }
                await Self.waitForShutdown()
                tasks.cancelAll()
            }
        } onCancelOrGracefulShutdown: {
            logger.notice("shutting down")
        }
        monitor?.close()
        await manager.shutdown()
        transport.close()
        names.close()
        try? await controlListener.channel.close()
        unlink(config.socket)
        logger.notice("smegd stopped")
    }

    /// Suspends until SIGTERM/SIGINT starts a graceful shutdown or the task is cancelled.
    private static func waitForShutdown() async {
        try? await gracefulShutdown()
    }

    /// Routes each datagram to its mesh by the clear mesh id in the frame header.
    private static func dispatch(
        transport: GossipTransport, directory: MeshDirectory, metrics: MetricsRegistry, logger: Logger
    ) async {
        var backlog = InputBacklog()
        for await datagram in transport.datagrams {
            let reading = backlog.handle(
                receivedAt: datagram.receivedAt, now: .now, received: transport.receivedCount,
                dropped: transport.droppedCount)
            if let gauge = reading.gauge { metrics.set("smeg_gossip_input_lag_seconds", gauge.seconds) }
            if reading.warn {
                let behind = Int(reading.behind.seconds * 1000)
                logger.warning(
                    "gossip input is \(behind) ms behind (\(reading.waiting) datagrams waiting): this host cannot keep up with the mesh; datagrams older than 1 s are dropped unread (smeg_gossip_input_dropped_total)"
                )
            }
            if reading.stale {
                transport.noteStaleDrop()
                metrics.increment("smeg_gossip_input_dropped_total", labels: ["reason": "stale"])
                continue
            }
            await route(datagram, directory: directory, metrics: metrics)
        }
    }

    /// Join frames come in a lane of their own (`GossipTransport.bind` says why) and are never
    /// dropped stale: the issuer's join budget, not the backlog, bounds their cost, and a
    /// joiner whose request is answered late is still a joiner served. Handled alongside
    /// `dispatch`, so one waits behind at most the gossip datagram being handled.
    private static func dispatchJoins(
        transport: GossipTransport, directory: MeshDirectory, metrics: MetricsRegistry
    )
        async
    {
        var exported = 0
        for await datagram in transport.joinFrames {
            let dropped = transport.droppedJoinFrames
            if dropped != exported {
                metrics.increment(
                    "smeg_gossip_input_dropped_total", by: Double(dropped &- exported), labels: ["reason": "join-queue"]
                )
                exported = dropped
            }
            await route(datagram, directory: directory, metrics: metrics)
        }
    }

    private static func route(_ datagram: Datagram, directory: MeshDirectory, metrics: MetricsRegistry) async {
        guard let mesh = try? FrameSession.meshID(of: datagram.bytes) else {
            metrics.increment("smeg_frames_rejected_total", labels: ["reason": "not-a-frame"])
            return
        }
        guard let runtime = directory.runtime(for: mesh) else {
            metrics.increment("smeg_frames_rejected_total", labels: ["reason": "unknown-mesh"])
            return
        }
        await runtime.receive(datagram)
    }

    /// Hands every change of the host's network to every mesh, as it happens.
    private static func followNetwork(_ monitor: LinkMonitor, directory: MeshDirectory, logger: Logger) async {
        for await change in monitor.changes {
            logger.info("network changed: \(change.summary)")
            for runtime in directory.all { await runtime.networkChanged(change.summary) }
        }
    }

    /// Exports the gossip datagrams the kernel refused to send, and says so in the log (at most
    /// once a minute): a send that fails is otherwise invisible, and a member that can be heard
    /// but not answered looks dead to the mesh.
    private static func watchSends(transport: GossipTransport, metrics: MetricsRegistry, logger: Logger) async {
        var exported = 0
        var loggedAt: ContinuousClock.Instant?
        var loggedCount = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            let failed = transport.failedSends
            guard failed != exported else { continue }
            metrics.increment("smeg_gossip_send_failures_total", by: Double(failed - exported))
            exported = failed
            let now = ContinuousClock.now
            if loggedAt.map({ now - $0 >= .seconds(60) }) ?? true {
                let reason = transport.lastSendError
                logger.warning(
                    "\(failed - loggedCount) gossip datagrams could not be sent\(reason.isEmpty ? "" : " (\(reason))"); members may see this node as unreachable. Check routes and gossipBind"
                )
                loggedAt = now
                loggedCount = failed
            }
        }
    }

    static func declareMetrics(_ metrics: MetricsRegistry) {
        metrics.declare("smeg_build_info", .gauge, help: "Always 1; the version label is this smegd's version.")
        metrics.set("smeg_build_info", 1, labels: ["version": SmegVersion.string])
        metrics.declare("smeg_members", .gauge, help: "Present members of each mesh, this node included.")
        metrics.declare("smeg_is_leader", .gauge, help: "1 when this node leads the mesh's heartbeat epochs.")
        metrics.declare("smeg_gossip_frames_total", .counter, help: "Gossip frames sent and received.")
        metrics.declare("smeg_gossip_bytes_total", .counter, help: "Gossip bytes sent and received (whole frames).")
        metrics.declare(
            "smeg_gossip_send_failures_total", .counter, help: "Gossip datagrams the kernel refused to send.")
        metrics.declare(
            "smeg_gossip_input_lag_seconds", .gauge,
            help: "Largest wait of a received gossip datagram before it was handled, over the last second.")
        metrics.declare(
            "smeg_gossip_input_dropped_total", .counter,
            help:
                "Received gossip datagrams dropped unread: waited more than a second (stale), or join frames beyond a full queue (join-queue)."
        )
        metrics.declare("smeg_frames_rejected_total", .counter, help: "Frames dropped before the protocol, by reason.")
        metrics.declare("smeg_records_rejected_total", .counter, help: "Records and tombstones refused, by reason.")
        metrics.declare("smeg_syncs_total", .counter, help: "Anti-entropy exchanges started by peers.")
        metrics.declare("smeg_reconciles_total", .counter, help: "WireGuard/address reconciliations applied.")
        metrics.declare("smeg_reconcile_errors_total", .counter, help: "Reconciliations the kernel refused.")
        metrics.declare("smeg_reconcile_seconds", .gauge, help: "Duration of the last reconciliation.")
        NameService.declareMetrics(metrics)
    }
}
