/// This node's choices in one mesh, parsed once from the stored `MeshOptions` (strings and
/// optional numbers, the JSON and disk edge): everything in the node core reads these.
public struct NodeOptions: Equatable, Sendable {
    public var role: NodeRecord.Role
    public var listenPort: UInt16
    public var keepalive: UInt16?
    /// The operator's endpoint for this node; nil publishes the host's own addresses.
    public var endpoint: Endpoint?
    public var alias: String
    public var description: String
    /// Routes the operator advertises (exits and prefixes), before any bridged in.
    public var routes: [AdvertisedRoute]
    /// Whether this node bridges routes of its other meshes into this one.
    public var bridge: Bool

    public init(_ options: MeshOptions) {
        role = options.resolvedRole
        listenPort = options.resolvedListenPort
        keepalive = options.resolvedKeepalive
        endpoint = options.endpoint.flatMap(Endpoint.init)
        alias = options.alias ?? ""
        description = options.description ?? ""
        routes = options.advertisedRoutes
        bridge = options.bridge == true
    }
}
