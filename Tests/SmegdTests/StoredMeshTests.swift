import Foundation
import MeshLinux
import Testing

@testable import MeshCore
@testable import smegd

/// Loading a mesh from disk: the charter is verified again, and a missing or unusable identity
/// key is an error naming the file and the fix, never a new identity.
@Suite struct StoredMeshTests {
    let state = StateDirectory(
        root: FileManager.default.temporaryDirectory.appendingPathComponent("smeg-stored-\(UUID())").path)
    let owner = try! NodeIdentity(seed: Array(0..<32))
    let exits = RoutePolicy(allowExitNodes: true)

    func charter(policy: RoutePolicy = .default) throws -> MeshCharter {
        try MeshCharter.sign(owner: owner, salt: Array(0xA0..<0xB0), name: "home", policy: policy)
    }

    func persisted(_ charter: MeshCharter, policy: RoutePolicy? = nil) -> PersistedMesh {
        let policy = policy ?? charter.policy
        return PersistedMesh(
            meshId: charter.mesh.text, name: charter.name, secret: Data(repeating: 7, count: 32).base64EncodedString(),
            options: MeshOptions(), bootstrap: [], policy: policy == .default ? nil : RoutePolicyView(policy),
            charter: PersistedMesh.encode(charter))
    }

    func store(_ mesh: PersistedMesh, key: Bool = true) throws {
        try state.prepare()
        if key { try state.saveIdentity(owner, meshId: mesh.meshId) }
        try state.save(mesh)
    }

    func loadError(_ mesh: PersistedMesh) -> StoredMeshError? {
        do {
            _ = try StoredMesh.load(mesh, state: state)
            return nil
        } catch {
            return error
        }
    }

    @Test func aSignedMeshLoadsWithItsCharter() throws {
        defer { try? FileManager.default.removeItem(atPath: state.root) }
        let charter = try charter(policy: exits)
        try store(persisted(charter))
        let stored = try StoredMesh.load(persisted(charter), state: state)
        #expect(stored.charter == charter)
        #expect(stored.policy == exits)
        #expect(stored.identity.signingKey == owner.signingKey)
    }

    @Test func aLegacyMeshLoadsUnsigned() throws {
        defer { try? FileManager.default.removeItem(atPath: state.root) }
        var legacy = persisted(try charter())
        legacy.charter = nil
        legacy.meshId = "aaaqeayeaudaocaj"
        try store(legacy)
        #expect(try StoredMesh.load(legacy, state: state).charter == nil)
        // A mesh.json of the previous version, without the field, still decodes.
        let old =
            #"{"bootstrap":[],"format":1,"meshId":"aaaqeayeaudaocaj","options":{},"secret":"c2VjcmV0","services":{}}"#
        #expect(try JSONDecoder().decode(PersistedMesh.self, from: Data(old.utf8)).charter == nil)
    }

    @Test func storedSettingsOtherThanTheSignedOnesAreRefused() throws {
        defer { try? FileManager.default.removeItem(atPath: state.root) }
        let charter = try charter()
        let widened = persisted(charter, policy: exits)
        try store(widened)
        let error = try #require(loadError(widened))
        guard case .settingsDifferFromCharter = error else {
            Issue.record("expected settingsDifferFromCharter, got \(error)")
            return
        }
        #expect("\(error)".contains(state.meshFile(charter.mesh.text)))
        var renamed = persisted(charter)
        renamed.name = "work"
        #expect("\(try #require(loadError(renamed)))".contains("differ from the ones the mesh's owner signed"))
    }

    @Test func aCharterOfAnotherMeshOrGarbageIsRefused() throws {
        defer { try? FileManager.default.removeItem(atPath: state.root) }
        var moved = persisted(try charter())
        moved.meshId = "aaaqeayeaudaocaj"
        try store(moved)
        #expect("\(try #require(loadError(moved)))".contains("does not commit to the charter's owner key"))
        moved.charter = "bm90IGEgY2hhcnRlcg=="
        #expect("\(try #require(loadError(moved)))".contains("charter"))
        moved.charter = "%%%"
        #expect("\(try #require(loadError(moved)))".contains("not base64 of a charter"))
    }

    @Test func aMissingKeyIsAnErrorAndNoKeyIsMade() throws {
        defer { try? FileManager.default.removeItem(atPath: state.root) }
        let mesh = persisted(try charter())
        try store(mesh, key: false)
        let error = try #require(loadError(mesh))
        guard case .identity(_, let keyError) = error else {
            Issue.record("expected an identity error, got \(error)")
            return
        }
        #expect(keyError.problem == .missing)
        let text = "\(error)"
        #expect(text.contains(state.identityFile(mesh.meshId)))
        #expect(text.contains("restore the key from a backup"))
        #expect(text.contains("smegctl leave \(mesh.meshId)"))
        #expect(!FileManager.default.fileExists(atPath: state.identityFile(mesh.meshId)))
    }

    @Test(arguments: [
        "", "garbage\n", "smegmesh-ed25519-seed-v1 AAAA\n",
        "smegmesh-mesh-secret-v1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
    ])
    func anUnreadableKeyIsAnError(content: String) throws {
        defer { try? FileManager.default.removeItem(atPath: state.root) }
        let mesh = persisted(try charter())
        try store(mesh)
        try AtomicFile.write(Array(content.utf8), to: state.identityFile(mesh.meshId), mode: 0o600)
        let error = try #require(loadError(mesh))
        guard case .identity(_, let keyError) = error, case .malformed = keyError.problem else {
            Issue.record("expected a malformed key, got \(error)")
            return
        }
        #expect("\(error)".contains(state.identityFile(mesh.meshId)))
        #expect("\(error)".contains("smegctl leave"))
        // The damaged file is left for the operator, not replaced.
        #expect(try AtomicFile.read(state.identityFile(mesh.meshId), limit: 4096) == Array(content.utf8))
    }

    @Test(arguments: [0o644, 0o640, 0o604])
    func aKeyOthersCanReadIsAnError(mode: Int) throws {
        defer { try? FileManager.default.removeItem(atPath: state.root) }
        let mesh = persisted(try charter())
        try store(mesh)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: state.identityFile(mesh.meshId))
        let error = try #require(loadError(mesh))
        guard case .identity(_, let keyError) = error, case .permissions = keyError.problem else {
            Issue.record("expected a permissions error, got \(error)")
            return
        }
        #expect("\(error)".contains("chmod 600 \(state.identityFile(mesh.meshId))"))
    }
}
