import GossipCRDT

/// This node's own record, and the routes it bridges in from its other meshes.
extension MeshNode {
    /// Signs and publishes this node's record; a failure is logged and shown in `status`.
    mutating func publishOwnRecord(now: Instant, minimumVersion: UInt64 = 0, failure: String) -> [Effect] {
        do {
            return try signAndPublish(now: now, minimumVersion: minimumVersion)
        } catch {
            return failed(failure, error)
        }
    }

    /// Signs and publishes this node's record with the current options, at a version above
    /// everything the mesh has seen of it.
    mutating func signAndPublish(now: Instant, minimumVersion: UInt64 = 0) throws -> [Effect] {
        var record = NodeRecord(
            identity: identity, mesh: mesh, endpoints: ownEndpoints, wireGuardPort: options.listenPort,
            gossipPort: settings.gossipPort, role: options.role,
            version: max(engine.nextOwnVersion, minimumVersion))
        record.alias = options.alias
        record.description = options.description
        record.services = persisted.services
        // Routes the owners' policy no longer allows stay configured but unpublished.
        record.routes = options.routes.filter { policy.violation(of: $0, in: mesh, ipv4Prefix: ipv4Prefix) == nil }
        record.admission = ownAdmission
        record.candidates = ownCandidates
        for route in bridgedRoutes
        where record.routes.count < RecordLimits.maxRoutes
            && !record.routes.contains(where: { $0.prefix == route.prefix })
        {
            record.routes.append(route)
        }
        let signed = try SignedNodeRecord.sign(record, identity: identity, mesh: mesh, policy: policy)
        let member = MemberRecord(owner: identity.nodeID, version: record.version, payload: signed.encoded)
        var effects = perform(gossip.publish(member, decoded: record, now: now), now: now)
        effects += handleEvents(now: now)
        persistDue = now
        return effects
    }

    /// A peer publishes the operator's endpoint, or else the addresses of this host's other
    /// interfaces (loopback ones without a data plane, where daemons share one machine); a
    /// client publishes none (it is reached through the handshakes it starts).
    var ownEndpoints: [Endpoint] {
        guard options.role == .peer else { return [] }
        if let endpoint = options.endpoint { return [endpoint] }
        return hostEndpoints
    }

    /// What this mesh offers to be advertised into another mesh `target`: its members' prefix
    /// and the best routes its other members advertise, each with this mesh appended to the
    /// path. Routes this node advertises here itself, and paths that already crossed `target`,
    /// are left out: that is what makes a loop between bridges impossible.
    public func routesForBridging(into target: MeshID) -> [AdvertisedRoute] {
        var routes = [AdvertisedRoute(prefix: OverlayAddress.meshPrefix(of: mesh), path: [mesh])]
        let me = identity.wireGuardPublicKey
        var best: [IPPrefix: AdvertisedRoute] = [:]
        for (id, record) in records where id != identity.nodeID && record.wireGuardKey != me {
            for route in record.routes where !route.path.contains(target) && !route.path.contains(mesh) {
                let extended = AdvertisedRoute(prefix: route.prefix, path: route.path + [mesh])
                guard extended.path.count <= RecordLimits.maxPathLength else { continue }
                if let current = best[route.prefix], current.hopCount <= extended.hopCount { continue }
                best[route.prefix] = extended
            }
        }
        routes += best.values.sorted { ($0.hopCount, $0.prefix) < ($1.hopCount, $1.prefix) }
        return routes
    }

    /// Replaces the routes bridged in from other meshes (only those this mesh's policy accepts)
    /// and republishes when they changed.
    public mutating func setBridgedRoutes(_ offered: [AdvertisedRoute], now: Instant) -> [Effect] {
        guard options.bridge else { return [] }
        let accepted = offered.filter { policy.violation(of: $0, in: mesh, ipv4Prefix: ipv4Prefix) == nil }
        guard accepted != bridgedRoutes else { return [] }
        bridgedRoutes = accepted
        let list = accepted.map(\.description).joined(separator: ", ")
        return [.log(.info, "bridging \(accepted.count) routes into this mesh: \(list)")]
            + publishOwnRecord(now: now, failure: "cannot publish bridged routes")
    }
}
