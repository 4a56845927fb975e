import Glibc
import MeshCore

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A persisted mesh with every field checked and this node's identity loaded: what a runtime
/// starts from.
///
/// Create, join and restore all go through `load`, so a mesh that started once cannot start
/// differently after a restart, and the owner's charter is verified again every time. Nothing
/// here makes a key: a node's identity is its membership (its address, its WireGuard key, the
/// records others hold), so a lost key silently replaced would be a new member the operator did
/// not ask for and would leave the old one to be pruned. Only `create` and `join` make keys.
struct StoredMesh: Sendable {
    let persisted: PersistedMesh
    let mesh: MeshID
    let secret: MeshSecret
    let policy: RoutePolicy
    /// Nil for a mesh made before owners existed: its settings are only what this node stored.
    let charter: MeshCharter?
    let identity: NodeIdentity

    static func load(_ persisted: PersistedMesh, state: StateDirectory) throws(StoredMeshError) -> StoredMesh {
        let file = state.meshFile(persisted.meshId)
        guard let mesh = MeshID(persisted.meshId) else { throw .invalidMeshID(persisted.meshId) }
        guard let data = Data(base64Encoded: persisted.secret), let secret = MeshSecret(bytes: Array(data)) else {
            throw .damaged(file: file, field: "secret", reason: "not 32 bytes of base64")
        }
        let policy: RoutePolicy
        switch persisted.policy?.policy() ?? .success(.default) {
        case .success(let stored): policy = stored
        case .failure(let error): throw .damaged(file: file, field: "policy", reason: "\(error)")
        }
        let charter = try Self.charter(of: persisted, mesh: mesh, file: file)
        if let charter, charter.name != persisted.name || charter.policy != policy {
            throw .settingsDifferFromCharter(file: file, mesh: mesh)
        }
        let identity: NodeIdentity
        do {
            identity = try KeyFile.load(from: state.identityFile(persisted.meshId))
        } catch {
            throw .identity(mesh: mesh, error)
        }
        return StoredMesh(
            persisted: persisted, mesh: mesh, secret: secret, policy: policy, charter: charter, identity: identity)
    }

    /// The stored charter, verified for `mesh`; nil when the mesh has none.
    static func charter(
        of persisted: PersistedMesh, mesh: MeshID, file: String = "mesh.json"
    ) throws(StoredMeshError) -> MeshCharter? {
        guard let text = persisted.charter else { return nil }
        guard let data = Data(base64Encoded: text), data.count <= MeshCharter.maxByteCount else {
            throw .damaged(file: file, field: "charter", reason: "not base64 of a charter")
        }
        do {
            return try MeshCharter(bytes: Array(data), mesh: mesh)
        } catch {
            throw .charter(file: file, mesh: mesh, error)
        }
    }

    /// Logged for a mesh without a charter, at every start and at join.
    static func unsignedWarning(_ mesh: MeshID) -> String {
        "mesh \(mesh) has no owner-signed charter (it was made before smegmesh had mesh owners, or joined without "
            + "a token that carries one): its name and route policy are as stored on this node, and any holder of "
            + "the mesh secret could have chosen them; if the mesh has an owner, join it again with a token from "
            + "`smegctl invite` on a current member"
    }
}

extension PersistedMesh {
    /// The form mesh.json keeps a charter in.
    static func encode(_ charter: MeshCharter?) -> String? {
        charter.map { Data($0.bytes).base64EncodedString() }
    }
}

/// Why a mesh on disk cannot be started, naming the file and what to do.
enum StoredMeshError: Error, CustomStringConvertible {
    case invalidMeshID(String)
    case damaged(file: String, field: String, reason: String)
    case charter(file: String, mesh: MeshID, MeshCharterError)
    case settingsDifferFromCharter(file: String, mesh: MeshID)
    case identity(mesh: MeshID, KeyFileError)

    var description: String {
        switch self {
        case .invalidMeshID(let text):
            return "invalid mesh id \(text) in its state directory; remove the directory"
        case .damaged(let file, let field, let reason):
            return "the \(field) in \(file) is damaged (\(reason)); restore the file from a backup"
        case .charter(let file, let mesh, let error):
            return "the owner's charter in \(file) does not verify (\(error)); restore the file from a backup, "
                + "or run `smegctl leave \(mesh)` and join again with a token from an owner"
        case .settingsDifferFromCharter(let file, let mesh):
            return "the name or route policy in \(file) differ from the ones the mesh's owner signed; restore the "
                + "file from a backup, or run `smegctl leave \(mesh)` and join again with a token from an owner"
        case .identity(let mesh, let error):
            switch error.problem {
            case .permissions, .owner, .io:
                return "mesh \(mesh) cannot use its identity key: \(error); then restart smegd"
            case .missing, .notRegularFile, .malformed:
                return "mesh \(mesh) has state but no usable identity key: \(error); restore the key from a backup, "
                    + "or run `smegctl leave \(mesh)` and join again (as a new member); smegd never replaces a "
                    + "mesh's key by itself"
            }
        }
    }
}
