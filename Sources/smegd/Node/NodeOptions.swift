import MeshCore

/// This node's choices in one mesh, parsed once from the stored `MeshOptions` (strings and
/// optional numbers, the JSON and disk edge): everything in the node core reads these.
struct NodeOptions: Equatable, Sendable {
    var role: NodeRecord.Role
    var listenPort: UInt16
    var keepalive: UInt16?
    /// The operator's endpoint for this node; nil publishes the host's own addresses.
    var endpoint: Endpoint?
    var alias: String
    var description: String
    /// Routes the operator advertises (exits and prefixes), before any bridged in.
    var routes: [AdvertisedRoute]
    /// Whether this node bridges routes of its other meshes into this one.
    var bridge: Bool

    init(_ options: MeshOptions) {
        role = options.resolvedRole
        listenPort = options.resolvedListenPort
        keepalive = options.resolvedKeepalive
        endpoint = options.endpoint.flatMap(Endpoint.init)
        alias = options.alias ?? ""
        description = options.description ?? ""
        routes = MeshOptionsCheck.advertisedRoutes(options)
        bridge = options.bridge == true
    }
}
