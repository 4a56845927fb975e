import Foundation
import Logging
import Testing

@testable import MeshCore
@testable import smegd

/// The manager's handling of owners and identity keys, in-process and control-plane-only: create
/// signs the settings, join checks them, and a mesh whose key is gone is reported, not re-keyed.
@Suite(.serialized) struct MeshManagerStateTests {
    let state = StateDirectory(
        root: FileManager.default.temporaryDirectory.appendingPathComponent("smeg-manager-\(UUID())").path)

    /// Runs `body` against a manager on `state` that is running (restore done), then stops it.
    func withManager(_ body: (MeshManager) async throws -> Void) async throws {
        var config = DaemonConfig()
        config.controlPlaneOnly = true
        config.stateDir = state.root
        config.metricsListen = nil
        let logger = Logger(label: "test")
        let transport = try GossipTransport.bind(host: "127.0.0.1", port: 0, logger: logger)
        let metrics = MetricsRegistry()
        Daemon.declareMetrics(metrics)
        let manager = MeshManager(
            config: config, state: state, transport: transport, directory: MeshDirectory(), metrics: metrics,
            clock: DaemonClock(), logger: logger)
        let running = Task { await manager.run() }
        // `run` restores before anything else; a status call queued behind it sees the result.
        try await Task.sleep(for: .milliseconds(100))
        do {
            try await body(manager)
        } catch {
            running.cancel()
            await running.value
            await manager.shutdown()
            transport.close()
            throw error
        }
        running.cancel()
        await running.value
        await manager.shutdown()
        transport.close()
    }

    func controlError(_ operation: () async throws -> Void) async -> ControlError? {
        do {
            try await operation()
            return nil
        } catch {
            return error as? ControlError
        }
    }

    @Test func createSignsTheSettingsAndEveryTokenCarriesTheCharter() async throws {
        defer { try? FileManager.default.removeItem(atPath: state.root) }
        var meshId = ""
        try await withManager { (manager: MeshManager) async throws in
            let created = try await manager.createMesh(
                CreateMeshRequest(name: "home", policy: RoutePolicyView(allowExitNodes: true)))
            meshId = created.mesh.meshId
            let token = try Invitation(created.token)
            let charter = token.charter
            #expect(charter.mesh.text == meshId)
            #expect(charter.policy == RoutePolicy(allowExitNodes: true) && charter.name == "home")
            // The first owner key is this node's identity in the mesh, stored before the mesh id existed.
            #expect(try KeyFile.load(from: state.identityFile(meshId)).signingKey == charter.owner)
            #expect(created.mesh.settingsSigned == true && created.mesh.owner == charter.owner.base64)
            #expect(try Invitation(try await manager.invite(meshId).token).charter == charter)
        }
        // Restored from mesh.json, the charter is verified again and still travels.
        try await withManager { (manager: MeshManager) async throws in
            #expect(try await manager.mesh(meshId).mesh.settingsSigned == true)
            #expect(try Invitation(try await manager.invite(meshId).token).charter.mesh.text == meshId)
            #expect(try await manager.status().meshes.map(\.settingsSigned) == [true])
        }
    }

    @Test func joinRefusesSettingsTheOwnerDidNotSignAndMarksAnUnsignedToken() async throws {
        defer { try? FileManager.default.removeItem(atPath: state.root) }
        let owner = try NodeIdentity.generate()
        let charter = try MeshCharter.sign(owner: owner, salt: Array(0..<16), name: nil, policy: .default)
        let endpoint = Endpoint("127.0.0.1:9")!
        // A secret holder's token: the owner's charter, with exits allowed beside it.
        var writer = ByteWriter()
        writer.writeBytes(charter.mesh.bytes)
        writer.writeBytes(Array(repeating: 1, count: 32))
        writer.writeCount(1, limit: InviteToken.maxEndpoints)
        writer.writeEndpoint(endpoint)
        MeshSettingsCodec.write(name: nil, policy: RoutePolicy(allowExitNodes: true), to: &writer)
        MeshSettingsCodec.write(charter: charter, to: &writer)
        let forged = InviteToken.prefix + Base32.encode(writer.bytes + InviteToken.checksum(writer.bytes[...]))
        try await withManager { (manager: MeshManager) async throws in
            let refusal = try #require(
                await controlError { _ = try await manager.joinMesh(JoinMeshRequest(token: forged)) })
            #expect(refusal.status == 400)
            #expect(refusal.message.hasPrefix("this token's settings are not signed by the mesh's owner"))
            #expect(refusal.message.hasSuffix("ask an owner for a new token"))
            #expect(try state.meshIds().isEmpty)

            let legacy = try InviteToken(
                mesh: try MeshID.generate(), secret: MeshSecret.generate(), bootstrap: [endpoint])
            let joined = try await manager.joinMesh(JoinMeshRequest(token: legacy.text))
            #expect(joined.settingsSigned == false && joined.owner == nil)
            #expect(FileManager.default.fileExists(atPath: state.identityFile(legacy.mesh.text)))
        }
    }

    /// Stripping the charter from a token and widening its policy is what a secret holder would
    /// do; such a token joins only when the operator says the settings need no owner.
    @Test func aCharterlessTokenThatWidensThePolicyNeedsTheOperatorsConsent() async throws {
        defer { try? FileManager.default.removeItem(atPath: state.root) }
        let widened = try InviteToken(
            mesh: try MeshID.generate(), secret: MeshSecret.generate(), bootstrap: [Endpoint("127.0.0.1:9")!],
            policy: RoutePolicy(allowExitNodes: true, allowedPrefixes: [IPPrefix("8.8.8.8/32")!]))
        try await withManager { (manager: MeshManager) async throws in
            let refusal = try #require(
                await controlError { _ = try await manager.joinMesh(JoinMeshRequest(token: widened.text)) })
            #expect(refusal.status == 400)
            #expect(refusal.message.contains("no owner signed it"))
            #expect(refusal.message.contains("--allow-unsigned-settings"))
            #expect(try state.meshIds().isEmpty)

            let joined = try await manager.joinMesh(JoinMeshRequest(token: widened.text, allowUnsignedSettings: true))
            #expect(joined.settingsSigned == false)
        }
    }

    @Test func aMeshWithoutItsKeyIsReportedNotRekeyed() async throws {
        defer { try? FileManager.default.removeItem(atPath: state.root) }
        let mesh = try MeshID.generate()
        try state.prepare()
        try state.save(
            PersistedMesh(
                meshId: mesh.text, secret: Data(repeating: 3, count: 32).base64EncodedString(), options: MeshOptions(),
                bootstrap: []))
        let keyFile = state.identityFile(mesh.text)
        try await withManager { (manager: MeshManager) async throws in
            let status = try #require(try await manager.status().meshes.first)
            #expect(status.meshId == mesh.text && status.started == false)
            #expect(status.lastError?.contains(keyFile) == true)
            #expect(status.lastError?.contains("smegctl leave \(mesh.text)") == true)
            #expect(try await manager.listMeshes().meshes.isEmpty)

            let token = try InviteToken(
                mesh: mesh, secret: MeshSecret(bytes: Array(repeating: 3, count: 32))!,
                bootstrap: [Endpoint("127.0.0.1:9")!])
            let refusal = try #require(
                await controlError { _ = try await manager.joinMesh(JoinMeshRequest(token: token.text)) })
            #expect(refusal.status == 409 && refusal.message.contains("smegctl leave"))
            #expect(!FileManager.default.fileExists(atPath: keyFile))

            try await manager.leaveMesh(mesh.text)
            #expect(try await manager.status().meshes.isEmpty)
            #expect(!FileManager.default.fileExists(atPath: state.directory(of: mesh.text)))
        }
    }
}
