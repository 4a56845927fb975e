import Glibc
import MeshCore
import MeshLinux

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The on-disk layout under `stateDir`:
///
///     meshes/<mesh-id>/mesh.json       settings and secret (0600)
///     meshes/<mesh-id>/identity.key    this node's key for the mesh (0600)
///     meshes/<mesh-id>/members.json    last known membership
///     meshes/<mesh-id>/invites.json    invites this node issued as an owner (0600)
///     evicted/<mesh-id>.json           who evicted this node from a mesh, and when
///
/// A file that cannot be parsed is renamed to `<name>.corrupt-<unix time>` and reported: the
/// daemon starts without it instead of crashing or silently overwriting the evidence.
struct StateDirectory: Sendable {
    let root: String

    static let maximumMeshFile = 64 * 1024
    static let maximumMembershipFile = 64 * 1024 * 1024

    var meshesDirectory: String { root + "/meshes" }

    var evictedDirectory: String { root + "/evicted" }

    func directory(of meshId: String) -> String { meshesDirectory + "/" + meshId }
    func evictionFile(_ meshId: String) -> String { evictedDirectory + "/" + meshId + ".json" }
    func meshFile(_ meshId: String) -> String { directory(of: meshId) + "/mesh.json" }
    func identityFile(_ meshId: String) -> String { directory(of: meshId) + "/identity.key" }
    func membershipFile(_ meshId: String) -> String { directory(of: meshId) + "/members.json" }
    func invitesFile(_ meshId: String) -> String { directory(of: meshId) + "/invites.json" }

    /// Creates the directory tree with owner-only access.
    func prepare() throws {
        try AtomicFile.makeDirectory(root, mode: 0o700)
        try AtomicFile.makeDirectory(meshesDirectory, mode: 0o700)
    }

    /// Removes what interrupted writes left behind (see `StaleTemporaries`); returns the paths.
    func removeStaleTemporaries() -> [String] {
        StaleTemporaries.remove(under: root)
    }

    /// Mesh ids with a directory on disk, sorted.
    func meshIds() throws -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: meshesDirectory)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted()
    }

    func save(_ mesh: PersistedMesh) throws {
        try AtomicFile.makeDirectory(directory(of: mesh.meshId), mode: 0o700)
        try AtomicFile.write(Self.encode(mesh), to: meshFile(mesh.meshId), mode: 0o600)
    }

    /// Writes this node's key for a mesh it creates or joins; restoring only ever reads it.
    func saveIdentity(_ identity: NodeIdentity, meshId: String) throws {
        try AtomicFile.makeDirectory(directory(of: meshId), mode: 0o700)
        try KeyFile.write(identity, to: identityFile(meshId))
    }

    func save(_ membership: PersistedMembership, meshId: String) throws {
        try AtomicFile.write(Self.encode(membership), to: membershipFile(meshId), mode: 0o600)
    }

    func save(_ invites: PersistedInvites, meshId: String) throws {
        try AtomicFile.write(Self.encode(invites), to: invitesFile(meshId), mode: 0o600)
    }

    typealias Loaded<Value> = StateFile<Value>

    func loadInvites(_ meshId: String) -> Loaded<PersistedInvites> {
        load(invitesFile(meshId), limit: Self.maximumMeshFile * 16) { (invites: PersistedInvites) in
            invites.format == PersistedInvites.currentFormat ? nil : "unsupported format \(invites.format)"
        }
    }

    func loadMesh(_ meshId: String) -> Loaded<PersistedMesh> {
        load(meshFile(meshId), limit: Self.maximumMeshFile) { (mesh: PersistedMesh) in
            guard mesh.format == PersistedMesh.currentFormat else { return "unsupported format \(mesh.format)" }
            guard mesh.meshId == meshId else { return "mesh id \(mesh.meshId) does not match its directory" }
            return nil
        }
    }

    func loadMembership(_ meshId: String) -> Loaded<PersistedMembership> {
        load(membershipFile(meshId), limit: Self.maximumMembershipFile) { (membership: PersistedMembership) in
            membership.format == PersistedMembership.currentFormat ? nil : "unsupported format \(membership.format)"
        }
    }

    /// Removes everything the node kept about a mesh it left.
    func remove(_ meshId: String) throws {
        let path = directory(of: meshId)
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
    }

    /// Remembers an eviction after the mesh's own state is gone, so `status` can say who.
    func saveEviction(_ eviction: EvictedMesh) throws {
        try AtomicFile.makeDirectory(root, mode: 0o700)
        try AtomicFile.makeDirectory(evictedDirectory, mode: 0o700)
        try AtomicFile.write(Self.encode(eviction), to: evictionFile(eviction.meshId), mode: 0o600)
    }

    /// Evictions on record, by mesh id; unreadable ones are moved aside and skipped.
    func evictions() -> [EvictedMesh] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: evictedDirectory)) ?? []
        return names.filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.sorted().compactMap { name in
            let meshId = String(name.dropLast(5))
            guard
                case .value(let eviction) = load(
                    evictionFile(meshId), limit: Self.maximumMeshFile,
                    check: {
                        (eviction: EvictedMesh) in
                        eviction.meshId == meshId ? nil : "mesh id does not match the file name"
                    })
            else { return nil }
            return eviction
        }
    }

    func forgetEviction(_ meshId: String) {
        try? FileManager.default.removeItem(atPath: evictionFile(meshId))
    }

    private func load<Value: Decodable>(
        _ path: String, limit: Int, check: (Value) -> String?
    ) -> Loaded<Value> {
        let bytes: [UInt8]
        do {
            guard let read = try AtomicFile.read(path, limit: limit) else { return .absent }
            bytes = read
        } catch {
            return .corrupt(problem: moveAside(path, because: "\(error)"))
        }
        let value: Value
        do {
            value = try JSONDecoder().decode(Value.self, from: Data(bytes))
        } catch {
            return .corrupt(problem: moveAside(path, because: "not valid JSON for this format"))
        }
        if let reason = check(value) { return .corrupt(problem: moveAside(path, because: reason)) }
        return .value(value)
    }

    /// Renames a bad file out of the way and returns a log line that says where it went.
    private func moveAside(_ path: String, because reason: String) -> String {
        let target = "\(path).corrupt-\(Int(Date().timeIntervalSince1970))"
        if rename(path, target) == 0 {
            return "\(path) is unreadable (\(reason)); moved it to \(target) and continued without it"
        }
        return "\(path) is unreadable (\(reason)) and could not be moved aside: \(String(cString: strerror(errno)))"
    }

    private static func encode(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return Array(try encoder.encode(value)) + [0x0a]
    }
}

/// What is kept of a mesh this node was evicted from (`evicted/<mesh-id>.json`).
struct EvictedMesh: Codable, Equatable, Sendable {
    var meshId: String
    var name: String?
    /// The evicting owner, as the mesh named it.
    var by: String
    /// Milliseconds since 1970, by the owner's clock.
    var atMillis: UInt64
}
