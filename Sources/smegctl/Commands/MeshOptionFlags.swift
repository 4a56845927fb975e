import ArgumentParser
import MeshAPI

/// The per-mesh choices a node makes when it creates or joins a mesh.
struct MeshOptionFlags: ParsableArguments {
    @Option(help: "Role of this node: peer (reachable, routes for clients) or client (behind NAT).")
    var role: String?

    @Option(help: ArgumentHelp("WireGuard listen port for this mesh (default: chosen by smegd).", valueName: "port"))
    var listenPort: Int?

    @Option(help: ArgumentHelp("Public endpoint others should use, HOST:PORT or [IPv6]:PORT.", valueName: "endpoint"))
    var endpoint: String?

    @Option(help: ArgumentHelp("Persistent keepalive in seconds (clients default to 25).", valueName: "seconds"))
    var keepalive: Int?

    @Option(
        name: .customLong("advertise-route"),
        help: ArgumentHelp("Advertise a prefix reachable through this node (repeatable).", valueName: "prefix"))
    var advertiseRoutes: [String] = []

    @Flag(
        help:
            "Advertise the default routes ::/0 and 0.0.0.0/0: this node is an exit for both families, masquerading IPv4 (the mesh must allow exit nodes)."
    )
    var advertiseDefaultRoute = false

    @Flag(
        help: ArgumentHelp(
            "Bridge this node's other meshes into this one: advertise their prefixes and forward between them "
                + "(the mesh must allow bridged meshes)."))
    var bridge = false

    @Option(help: ArgumentHelp("Name for this node in the mesh (DNS label: a-z, 0-9, -).", valueName: "name"))
    var alias: String?

    @Option(help: ArgumentHelp("Free-text description of this node.", valueName: "text"))
    var description: String?

    /// The same check smegd makes (`MeshOptions.problem`), worded with this command's flags.
    func validate() throws {
        if let problem = options.problem { throw ValidationError(problem.flagDescription) }
    }

    var options: MeshOptions {
        MeshOptions(
            role: role, listenPort: listenPort, endpoint: endpoint, keepalive: keepalive,
            advertiseRoutes: advertiseRoutes.isEmpty ? nil : advertiseRoutes,
            advertiseDefaultRoute: advertiseDefaultRoute ? true : nil, alias: alias, description: description,
            bridge: bridge ? true : nil)
    }
}
