import GossipCRDT
import MeshCore

extension MeshDirectory {
    /// The zone of every mesh this node is in.
    func dnsZone(origin: DomainName) async -> DNSZone {
        var meshes: [DNSZone.Mesh] = []
        for runtime in all { meshes.append(await runtime.dnsMesh()) }
        return DNSZone(origin: origin, meshes: meshes)
    }
}
