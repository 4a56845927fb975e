import MeshCore

/// What the DNS responder and the hosts export show of a mesh.
extension MeshRuntime {
    /// Every present member with a verified record, under the mesh's name or, without one,
    /// its id.
    func dnsMesh() -> DNSZone.Mesh {
        let members = engine.members.compactMap { member -> DNSZone.Member? in
            guard let record = records[member.owner] else { return nil }
            return DNSZone.Member(
                alias: record.alias.isEmpty ? nil : record.alias, shortId: "\(member.owner)", address: record.address)
        }
        return DNSZone.Mesh(label: persisted.name ?? mesh.text, members: members)
    }
}

extension MeshDirectory {
    /// The zone of every mesh this node is in.
    func dnsZone(origin: DomainName) async -> DNSZone {
        var meshes: [DNSZone.Mesh] = []
        for runtime in all { meshes.append(await runtime.dnsMesh()) }
        return DNSZone(origin: origin, meshes: meshes)
    }
}
