extension MeshNode {
    /// A token whose bootstrap endpoints are where this node's gossip answers: the public
    /// endpoint the operator gave for this mesh (its host, at `gossipPort`) first, then `local`,
    /// the host's own addresses at that port (loopback when it has none). Signed settings go
    /// in as the owner's charter when the mesh has one.
    public func inviteToken(gossipPort: UInt16, local: [Endpoint]) throws -> InviteToken {
        var endpoints: [Endpoint] = []
        if let given = options.endpoint, let endpoint = Endpoint(host: given.host, port: gossipPort) {
            endpoints.append(endpoint)
        }
        endpoints += local.filter { !endpoints.contains($0) }
        if endpoints.isEmpty { endpoints = Endpoint.loopback(port: gossipPort) }
        let bootstrap = Array(endpoints.prefix(InviteToken.maxEndpoints))
        if let charter {
            return try InviteToken(secret: secret, bootstrap: bootstrap, charter: charter)
        }
        return try InviteToken(mesh: mesh, secret: secret, bootstrap: bootstrap, name: persisted.name, policy: policy)
    }
}
