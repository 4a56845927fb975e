/// Which advertised routes a node accepts from other members.
///
/// The default accepts only prefixes inside the mesh's own RFC 4193 /48, and never one that
/// overlaps the members' /64: a more specific route there would let a member capture another
/// member's overlay address. Everything else (a LAN, another mesh, a default route) needs the
/// operator to say so, which is what stops a member from hijacking 8.8.8.8/32 or ::/0.
/// Configure the same policy on every node, or members will disagree about which records are valid.
public struct RoutePolicy: Hashable, Sendable {
    /// Accept `0.0.0.0/0` and `::/0` (exit nodes).
    public var allowExitNodes: Bool
    /// Accept a bridged mesh's prefix when it lies inside the /48 derived from the route's origin
    /// mesh (the first mesh id in its path), which a receiver can check for itself.
    public var allowBridgedMeshes: Bool
    /// Further prefixes the operator trusts members to advertise, and anything inside them.
    public var allowedPrefixes: [IPPrefix]

    public init(allowExitNodes: Bool = false, allowBridgedMeshes: Bool = false, allowedPrefixes: [IPPrefix] = []) {
        self.allowExitNodes = allowExitNodes
        self.allowBridgedMeshes = allowBridgedMeshes
        self.allowedPrefixes = allowedPrefixes
    }

    public static let `default` = RoutePolicy()
}
