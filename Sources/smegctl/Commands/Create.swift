import ArgumentParser
import MeshCore

struct Create: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start a new mesh on this node and print its invite token.",
        discussion: """
            The mesh gets a random id and a 32-byte secret. Pass the printed token to
            `smegctl join` on every other node; anyone holding it can join, so share it
            like a password.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var mesh: MeshOptionFlags

    @Option(help: ArgumentHelp("Human name for the mesh, used in DNS names and graphs.", valueName: "name"))
    var name: String?

    func run() throws {
        let response = try global.client.call(
            "POST", "/v1/meshes", body: CreateMeshRequest(name: name, options: mesh.options),
            as: CreateMeshResponse.self)
        if output.json { return try Output.json(response) }
        let summary = response.mesh
        print("Created mesh \(summary.meshId)\(summary.name.map { " (\($0))" } ?? "") on \(summary.interface)")
        print("  this node: \(summary.address) in \(summary.prefix), role \(summary.role)")
        print("")
        print("Join from other nodes with:")
        print("  smegctl join \(response.token)")
    }
}
