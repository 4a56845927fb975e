import GossipCRDT
import MeshCore

/// What the DNS responder and the hosts export show of a mesh.
extension MeshRuntime {
    /// Every present member with a verified record and the alias it claims; the zone applies
    /// `AliasTable` to the same claims the member views use, so both show the same names.
    func dnsMesh() -> DNSZone.Mesh {
        let members = engine.members.compactMap { member -> DNSZone.Member? in
            guard let record = records[member.owner] else { return nil }
            return DNSZone.Member(id: member.owner, alias: record.alias, address: record.address)
        }
        return DNSZone.Mesh(id: mesh, name: persisted.name, members: members)
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
