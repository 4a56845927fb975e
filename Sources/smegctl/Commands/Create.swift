import ArgumentParser
import MeshCore

struct Create: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start a new mesh on this node and print its invite token.",
        discussion: """
            The mesh gets a random id and a 32-byte secret. Pass the printed token to
            `smegctl join` on every other node; anyone holding it can join, so share it
            like a password.

            The token also carries the mesh's name and route policy, which every
            member applies to the routes the others advertise: by default only
            prefixes inside the mesh's own /48. --allow-exit-nodes,
            --allow-bridged-meshes and --allow-route widen it. The policy cannot
            change later (make a new mesh instead).
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var mesh: MeshOptionFlags

    @Option(help: ArgumentHelp("Human name for the mesh, used in DNS names and graphs.", valueName: "name"))
    var name: String?

    @Flag(help: "Let members advertise the default route ::/0 (exit nodes). Fixed for the mesh's life.")
    var allowExitNodes = false

    @Flag(help: "Let members bridge other meshes into this one (advertise their prefixes). Fixed for the mesh's life.")
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
            ControlAPI.create(CreateMeshRequest(name: name, options: mesh.options, policy: policy)))
        if output.json { return try Output.json(response) }
        let summary = response.mesh
        print("Created mesh \(summary.meshId)\(summary.name.map { " (\($0))" } ?? "") on \(summary.interface)")
        print("  this node: \(summary.address) in \(summary.prefix), role \(summary.role)")
        print("")
        print("Join from other nodes with:")
        print("  smegctl join \(response.token)")
    }
}
