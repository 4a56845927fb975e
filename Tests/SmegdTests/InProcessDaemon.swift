import Foundation
import Logging

@testable import MeshCore
@testable import smegd

/// A control-plane-only daemon core (gossip socket on loopback, mesh manager) over a state
/// directory, run inside the test process so a test sees exactly what the daemon restores.
///
/// Heartbeats are as slow as the configuration allows: a restored member that is not running
/// must not be pruned while the test looks at it.
struct InProcessDaemon {
    let state: StateDirectory
    let manager: MeshManager
    let transport: GossipTransport

    init(stateRoot: String) throws {
        var config = DaemonConfig()
        config.stateDir = stateRoot
        config.controlPlaneOnly = true
        config.gossipBind = "127.0.0.1"
        config.gossipPort = 0
        config.heartbeatInterval = .seconds(300)
        config.metricsListen = nil
        let logger = Logger(label: "test")
        state = StateDirectory(root: stateRoot)
        try state.prepare()
        transport = try GossipTransport.bind(host: config.gossipBind, port: 0, logger: logger)
        manager = MeshManager(
            config: config, state: state, transport: transport, directory: MeshDirectory(),
            metrics: MetricsRegistry(), clock: DaemonClock(), logger: logger)
    }

    /// Runs the manager while `body` looks at it, then stops it the way the daemon does.
    func run<T: Sendable>(_ body: @Sendable (MeshManager) async throws -> T) async throws -> T {
        let manager = self.manager
        let running = Task { await manager.run() }
        do {
            let result = try await body(manager)
            await stop(running)
            return result
        } catch {
            await stop(running)
            throw error
        }
    }

    private func stop(_ running: Task<Void, Never>) async {
        running.cancel()
        await running.value
        await manager.shutdown()
        transport.close()
    }

    /// Polls `mesh` until it shows `members` members or 30 seconds pass. Generous on purpose:
    /// restoring takes milliseconds, but `swift test` runs suites in parallel on a cooperative
    /// pool of one thread per core, and suites that block a thread (socket clients, waits on
    /// processes) can hold this daemon's tasks back for many seconds on a 2-core machine.
    static func detail(of mesh: String, members: Int, in manager: MeshManager) async throws -> MeshDetail? {
        let deadline = ContinuousClock.now + .seconds(30)
        var last: MeshDetail?
        while ContinuousClock.now < deadline {
            last = try? await manager.mesh(mesh)
            if let last, last.members.count == members { return last }
            try await Task.sleep(for: .milliseconds(20))
        }
        return last
    }

    /// Copies a directory tree into a fresh temporary directory with owner-only modes, as the
    /// daemon left it: version control keeps neither the 0700 directories nor the 0600 files the
    /// key loader insists on.
    static func copyOfFixture(_ source: String) throws -> String {
        let target = FileManager.default.temporaryDirectory.appendingPathComponent("smeg-fixture-\(UUID())").path
        try FileManager.default.copyItem(atPath: source, toPath: target)
        let walker = FileManager.default.enumerator(atPath: target)
        chmod(target, 0o700)
        while let relative = walker?.nextObject() as? String {
            let path = target + "/" + relative
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            chmod(path, isDirectory.boolValue ? 0o700 : 0o600)
        }
        return target
    }
}
