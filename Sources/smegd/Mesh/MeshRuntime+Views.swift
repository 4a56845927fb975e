import GossipCRDT
import MeshCore

/// What the control API shows of a mesh.
extension MeshRuntime {
    var roleText: String { persisted.options.role ?? "peer" }

    var backendName: String { interfaceBackendName }

    func summary() -> MeshSummary {
        MeshSummary(
            meshId: mesh.text, name: persisted.name, interface: interfaceName,
            address: "\(identity.address(in: mesh))", prefix: "\(OverlayAddress.meshPrefix(of: mesh))",
            role: roleText, members: engine.store.presentCount, leader: engine.leader.map { "\($0)" },
            isLeader: engine.isLeader, policy: policy == .default ? nil : RoutePolicyView(policy),
            bridge: persisted.options.bridge, settingsSigned: persisted.charter != nil,
            owner: (try? StoredMesh.charter(of: persisted, mesh: mesh))??.owner.base64)
    }

    func detail() -> MeshDetail {
        let now = ContinuousClock.now
        let members = engine.members.compactMap { member -> MemberView? in
            guard let record = records[member.owner] else { return nil }
            let isSelf = member.owner == identity.nodeID
            return MemberView(
                id: record.wireGuardKey.base64, shortId: "\(member.owner)",
                alias: record.alias.isEmpty ? nil : record.alias,
                description: record.description.isEmpty ? nil : record.description, address: "\(record.address)",
                endpoints: record.endpoints.map(\.description), role: "\(record.role)",
                lastSeenSeconds: isSelf ? 0 : lastHeard[member.owner].map { (now - $0).seconds },
                isLeader: engine.leader == member.owner, isSelf: isSelf, services: record.services,
                routes: record.routes.map { RouteView(prefix: "\($0.prefix)", path: $0.path.map(\.text)) },
                version: record.version,
                via: record.role == .client ? topology.attachments[record.wireGuardKey].map { "\($0.nodeID)" } : nil)
        }
        return MeshDetail(mesh: summary(), members: members.sorted { $0.id < $1.id }, routing: routing())
    }

    /// This node's choice for every prefix it routes into the mesh.
    func routing() -> [RouteChoiceView] {
        let me = identity.wireGuardPublicKey
        return topology.advertisedPrefixes.compactMap { prefix in
            guard let via = topology.nextHop(for: prefix, chooser: me) else { return nil }
            return RouteChoiceView(
                prefix: "\(prefix)", exit: topology.exit(for: prefix, chooser: me).map { "\($0.nodeID)" },
                via: "\(via.nodeID)", hopCount: topology.hopCount(of: prefix) ?? 0)
        }
    }

    func status() -> MeshStatus {
        MeshStatus(
            meshId: mesh.text, interface: interfaceName, members: engine.store.presentCount,
            leader: engine.leader.map { "\($0)" },
            lastSyncSecondsAgo: lastFrame.map { (ContinuousClock.now - $0).seconds },
            lastError: lastError, settingsSigned: persisted.charter != nil, started: true)
    }
}
