import ArgumentParser
import MeshAPI

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

struct Join: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Join an existing mesh with an invite token.",
        discussion: """
            Usually, with the token that `smegctl create` or `smegctl invite` printed:
              smegctl join smeg1-...

            Without a token, give the mesh id, at least one bootstrap endpoint and the secret \
            (base64) in a file or on standard input:
              smegctl join --mesh-id ID --bootstrap 203.0.113.5:51900 \\
                --secret-file - < secret
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var mesh: MeshOptionFlags

    @Argument(help: "Invite token printed by `smegctl create` or `smegctl invite`.")
    var token: String?

    @Option(help: ArgumentHelp("Mesh id, when joining without a token.", valueName: "id"))
    var meshId: String?

    @Option(help: ArgumentHelp("Gossip endpoint of a member, HOST:PORT (repeatable).", valueName: "endpoint"))
    var bootstrap: [String] = []

    @Option(help: ArgumentHelp("File holding the mesh secret (base64); - reads standard input.", valueName: "path"))
    var secretFile: String?

    @Flag(
        help: ArgumentHelp(
            "Accept a token whose route policy no owner signed (a mesh made before owners existed)."))
    var allowUnsignedSettings = false

    func validate() throws {
        if token != nil && (meshId != nil || !bootstrap.isEmpty || secretFile != nil) {
            throw ValidationError("give either a token or --mesh-id/--bootstrap/--secret-file, not both")
        }
        if token == nil && (meshId == nil || bootstrap.isEmpty || secretFile == nil) {
            throw ValidationError("give an invite token, or all of --mesh-id, --bootstrap and --secret-file")
        }
    }

    func run() throws {
        var request = JoinMeshRequest(
            token: token?.trimmingWhitespace(), options: mesh.options,
            allowUnsignedSettings: allowUnsignedSettings ? true : nil)
        if let secretFile {
            request.meshId = meshId
            request.bootstrap = bootstrap
            request.secret = try readSecret(secretFile)
        }
        let summary = try global.client.call(ControlAPI.join(request))
        if output.json { return try Output.json(summary) }
        print("Joined mesh \(summary.meshId)\(summary.name.map { " (\($0))" } ?? "") on \(summary.interface)")
        print("  this node: \(TextTable.ownAddresses(summary, withPrefixes: true)), role \(summary.role)")
        print("  members known so far: \(summary.members); see them with `smegctl get \(summary.meshId)`")
        if summary.settingsSigned == false { printUnsignedWarning(summary) }
    }

    /// Tokens of meshes made before owners existed carry no charter; a token with its charter
    /// removed looks the same, so the operator is told which settings they are trusting.
    private func printUnsignedWarning(_ summary: MeshSummary) {
        let warning =
            "warning: the name and route policy of mesh \(summary.meshId) are not signed by an owner (an older "
            + "mesh, or a token someone altered); if the mesh was made by a current smegmesh, leave it and join "
            + "with a token from `smegctl invite` on a member you trust\n"
        StandardStreams.writeError(warning)
    }

    private func readSecret(_ path: String) throws -> String {
        let data: Data?
        if path == "-" {
            data = Data(StandardStreams.readInput(limit: 1025))
        } else {
            data = FileManager.default.contents(atPath: path)
        }
        guard let data, data.count <= 1024 else {
            throw CLIFailure("cannot read the mesh secret from \(path == "-" ? "standard input" : path)")
        }
        let text = String(decoding: data, as: UTF8.self).trimmingWhitespace()
        guard !text.isEmpty else { throw CLIFailure("the mesh secret in \(path) is empty") }
        return text
    }
}
