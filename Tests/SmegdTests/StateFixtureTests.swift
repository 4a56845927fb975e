import Foundation
import GossipCRDT
import Testing

@testable import MeshCore
@testable import smegd

/// State directories written by smegd before the hostile-members hardening (format 1): two
/// control-plane-only daemons on loopback, one of which created the mesh with a non-default
/// route policy and the other joined it with the token, each with an alias, a description and
/// a service, stopped with SIGTERM. Every later daemon must keep restoring them: nodes upgrade
/// in place, and a node that loses its state loses its place in the mesh.
///
/// The assertions name only what must survive an upgrade (mesh id, name, policy, this node's
/// WireGuard key, the members and what they signed), not incidental details of the files.
/// The keys and the mesh secret in the fixtures exist only for these tests.
@Suite struct StateFixtureTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/state-v1").path
    static let meshId = "z7bkvfbb3rx2zodp"
    static let alphaKey = "6B+tFrCzcn2y1nUHXUgayMHMUi7FGY+UF/kxr6S35GQ="
    static let betaKey = "liRK13jbkmMgRw4m9q5wwNmXEF5a9WATHf9wnBO66DM="

    @Test(arguments: [
        ("node1", alphaKey, "alpha", "first node"),
        ("node2", betaKey, "beta", "second node"),
    ])
    func restoresTodaysState(node: String, key: String, alias: String, description: String) async throws {
        let root = try InProcessDaemon.copyOfFixture(Self.fixtures + "/" + node)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let daemon = try InProcessDaemon(stateRoot: root)
        let detail = try await daemon.run { manager in
            try await InProcessDaemon.detail(of: Self.meshId, members: 2, in: manager)
        }
        let restored = try #require(detail)
        #expect(restored.mesh.meshId == Self.meshId)
        #expect(restored.mesh.name == "fixturemesh")
        #expect(restored.mesh.policy == RoutePolicyView(allowExitNodes: true, allowedPrefixes: ["10.42.0.0/16"]))
        #expect(restored.members.count == 2)

        let me = try #require(restored.members.first { $0.isSelf })
        #expect(me.id == key)
        #expect(me.alias == alias)
        #expect(me.description == description)

        let alpha = try #require(restored.members.first { $0.id == Self.alphaKey })
        let beta = try #require(restored.members.first { $0.id == Self.betaKey })
        #expect(alpha.alias == "alpha" && alpha.services == ["ssh": "22"])
        #expect(beta.alias == "beta" && beta.services == ["http": "8080"])
        #expect(alpha.role == "peer" && beta.role == "peer")
    }

    /// node1 (alpha) pruned beta before it stopped: after a restart the daemon must still hold
    /// the removal, show one member, and write the removal out again when it stops.
    @Test func aRemovalSurvivesTheDaemonsRestarts() async throws {
        let root = try InProcessDaemon.copyOfFixture(Self.fixtures + "/node1")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let state = StateDirectory(root: root)
        let mesh = try #require(MeshID(Self.meshId))
        // The fixtures were made by control-plane-only daemons on loopback, as the lab accepts.
        let validator = MeshRecordValidator(mesh: mesh, endpoints: .loopbackLab)
        guard case .value(let saved) = state.loadMembership(Self.meshId) else {
            Issue.record("members.json did not load")
            return
        }
        var store = MembershipSnapshot.restore(saved, validator: validator).store
        let alpha = try KeyFile.load(from: state.identityFile(Self.meshId))
        let beta = try #require(WireGuardPublicKey(base64: Self.betaKey)).nodeID
        let betaRecord = try #require(store.record(for: beta))
        let removal = TombstoneSigning.make(
            member: beta, version: betaRecord.version, kind: .pruned, identity: alpha, mesh: mesh)
        var rejections = RejectionCounts()
        _ = store.merge(MemberEntry(id: beta, tombstone: removal), validator: validator, rejections: &rejections)
        #expect(rejections.total == 0 && !store.isPresent(beta))
        try state.save(MembershipSnapshot.capture(store, lastAddresses: saved.lastAddresses), meshId: Self.meshId)

        for _ in 0..<2 {
            let daemon = try InProcessDaemon(stateRoot: root)
            let detail = try await daemon.run { manager in
                try await InProcessDaemon.detail(of: Self.meshId, members: 1, in: manager)
            }
            #expect(detail?.members.map(\.id) == [Self.alphaKey])
            guard case .value(let written) = state.loadMembership(Self.meshId) else {
                Issue.record("the daemon did not write members.json back")
                return
            }
            #expect(written.tombstones?.map(\.member) == [Self.betaKey])
            let again = MembershipSnapshot.restore(written, validator: validator)
            var restored = again.store
            var replay = RejectionCounts()
            _ = restored.merge(MemberEntry(id: beta, record: betaRecord), validator: validator, rejections: &replay)
            #expect(replay[.removed] == 1 && !restored.isPresent(beta))
        }
    }

    @Test func fixturesStillParseAsTheirFormat() throws {
        for node in ["node1", "node2"] {
            // A copy: a load that fails moves the file aside, which must never touch the fixture.
            let root = try InProcessDaemon.copyOfFixture(Self.fixtures + "/" + node)
            defer { try? FileManager.default.removeItem(atPath: root) }
            let state = StateDirectory(root: root)
            #expect(try state.meshIds() == [Self.meshId])
            guard case .value(let mesh) = state.loadMesh(Self.meshId) else {
                Issue.record("\(node): mesh.json did not load")
                continue
            }
            #expect(mesh.policy?.allowExitNodes == true)
            guard case .value(let membership) = state.loadMembership(Self.meshId) else {
                Issue.record("\(node): members.json did not load")
                continue
            }
            #expect(membership.records.count == 2)
            #expect(membership.lastAddresses.count == 1)
        }
    }
}
