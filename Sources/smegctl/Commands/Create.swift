import ArgumentParser
import MeshAPI

struct Create: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start a new mesh on this node and print an invitation.",
        discussion: """
            This node becomes the mesh's first owner: the mesh id commits to its key, and \
            owners sign who is a member, evictions and settings; members check every \
            signature, so nobody else can decide them, and no server is involved.

            The printed invitation admits up to 100 nodes within 24 hours: pass it to \
            `smegctl join` on the other machines, and share it like a password. It carries no \
            secret: this node checks it and hands each joiner the mesh secret sealed to that \
            joiner's key, so it must be running when they join. `smegctl invite` makes more, \
            single-use by default.

            The invitation also carries the mesh's name and route policy, which every member \
            applies to the routes the others advertise: by default only prefixes inside the \
            mesh's own /48. --allow-exit-nodes, --allow-bridged-meshes and --allow-route widen it.

            Members get an IPv6 address in the mesh's /64 and an IPv4 address in its IPv4 \
            network: by default a /16 of 100.64.0.0/10 that overlaps nothing this host uses, \
            or the one --ipv4-prefix names. It is fixed for the mesh's life. The output shows \
            this node's two addresses; `smegctl get` and `smegctl hosts` show everyone's.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var mesh: MeshOptionFlags

    @Option(help: ArgumentHelp("Human name for the mesh, used in DNS names and graphs.", valueName: "name"))
    var name: String?

    @Option(
        name: .customLong("ipv4-prefix"),
        help: ArgumentHelp(
            "The members' IPv4 network, /8 to /28 (e.g. 10.99.0.0/16), or \"none\" for IPv6 only. "
                + "Default: a free /16 of 100.64.0.0/10.",
            valueName: "prefix"))
    var ipv4Prefix: String?

    @Flag(
        help:
            "Let members advertise the default routes ::/0 and 0.0.0.0/0 (exit nodes). Owners can change it later (smegctl policy)."
    )
    var allowExitNodes = false

    @Flag(
        help:
            "Let members bridge other meshes into this one (advertise their prefixes). Owners can change it later (smegctl policy)."
    )
    var allowBridgedMeshes = false

    @Option(
        name: .customLong("allow-route"),
        help: ArgumentHelp(
            "Let members advertise this prefix or anything inside it, e.g. a LAN (repeatable). "
                + "Prefixes inside the mesh's own /48 are always allowed.",
            valueName: "prefix"))
    var allowedRoutes: [String] = []

    var policy: RoutePolicyView? {
        let view = RoutePolicyView(
            allowExitNodes: allowExitNodes ? true : nil, allowBridgedMeshes: allowBridgedMeshes ? true : nil,
            allowedPrefixes: allowedRoutes.isEmpty ? nil : allowedRoutes)
        return view == RoutePolicyView() ? nil : view
    }

    func run() throws {
        let response = try global.client.call(
            ControlAPI.create(
                CreateMeshRequest(name: name, options: mesh.options, policy: policy, ipv4Prefix: ipv4Prefix)))
        if output.json { return try Output.json(response) }
        let summary = response.mesh
        print("Created mesh \(summary.meshId)\(summary.name.map { " (\($0))" } ?? "") on \(summary.interface)")
        print("  this node: \(TextTable.ownAddresses(summary, withPrefixes: true)), role \(summary.role)")
        print("")
        print("Join from other nodes with (valid 24 h, up to 100 nodes; `smegctl invite` makes more):")
        print("  smegctl join \(response.token)")
    }
}
