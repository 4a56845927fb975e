/// What a member publishes about itself, replicated to every other member.
///
/// Everything here is public and signed by the owner (`SignedNodeRecord`); the overlay address and
/// the WireGuard key are included even though receivers can recompute them, so that a record is
/// self-describing in `smegctl` output and checks are explicit comparisons rather than assumptions.
public struct NodeRecord: Hashable, Sendable {
    public typealias Role = MemberRole

    public var wireGuardKey: WireGuardPublicKey
    public var signingKey: SigningPublicKey
    public var address: IPv6Address
    /// Publicly reachable endpoints in order of preference. Addresses only: a receiver never
    /// resolves a name another member chose.
    public var endpoints: [Endpoint]
    public var wireGuardPort: UInt16
    public var gossipPort: UInt16
    public var role: Role
    /// A DNS label (empty for none), answered by the mesh DNS responder.
    public var alias: String
    public var description: String
    public var services: [String: String]
    public var routes: [AdvertisedRoute]
    /// Increases with every change the owner makes; receivers keep the highest.
    public var version: UInt64
    /// The owner-signed admission (`OwnerStatement` of kind admit, its bytes) that makes this
    /// key a member; nil in records of meshes that do not require one yet.
    public var admission: [UInt8]?
    /// Where this member's WireGuard may be reached directly (`PathCandidate`); published by
    /// clients, so that pairs that would relay can punch through their NATs.
    public var candidates: [PathCandidate] = []

    public init(
        wireGuardKey: WireGuardPublicKey, signingKey: SigningPublicKey, address: IPv6Address,
        endpoints: [Endpoint] = [], wireGuardPort: UInt16, gossipPort: UInt16, role: Role = .peer,
        alias: String = "", description: String = "", services: [String: String] = [:],
        routes: [AdvertisedRoute] = [], version: UInt64, admission: [UInt8]? = nil
    ) {
        self.wireGuardKey = wireGuardKey
        self.signingKey = signingKey
        self.address = address
        self.endpoints = endpoints
        self.wireGuardPort = wireGuardPort
        self.gossipPort = gossipPort
        self.role = role
        self.alias = alias
        self.description = description
        self.services = services
        self.routes = routes
        self.version = version
        self.admission = admission
    }

    /// A record for `identity` in `mesh` with its keys and address filled in correctly.
    public init(
        identity: NodeIdentity, mesh: MeshID, endpoints: [Endpoint] = [], wireGuardPort: UInt16,
        gossipPort: UInt16, role: Role = .peer, version: UInt64 = 1
    ) {
        self.init(
            wireGuardKey: identity.wireGuardPublicKey, signingKey: identity.signingKey,
            address: identity.address(in: mesh), endpoints: endpoints, wireGuardPort: wireGuardPort,
            gossipPort: gossipPort, role: role, version: version)
    }
}

/// A prefix a member can forward traffic to, and the meshes the advertisement crossed.
///
/// `path` lists mesh ids from the origin mesh to the last mesh before this one; it is empty for a
/// prefix the advertising member serves itself. Its length is the hop count, and a path that
/// already contains the receiving mesh is a loop.
public struct AdvertisedRoute: Hashable, Sendable {
    public var prefix: IPPrefix
    public var path: [MeshID]

    public init(prefix: IPPrefix, path: [MeshID] = []) {
        self.prefix = prefix
        self.path = path
    }

    public var hopCount: Int { path.count }
}

extension AdvertisedRoute: CustomStringConvertible {
    public var description: String {
        path.isEmpty ? prefix.description : "\(prefix) via \(path.map(\.text).joined(separator: ">"))"
    }
}
