import ArgumentParser
import MeshCore

/// The operator's CLI; it talks to the local `smegd` over its control socket.
@main
struct SmegctlCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smegctl",
        abstract: "Control the local smegmesh daemon (smegd).",
        discussion: """
            smegctl sends requests to smegd over its Unix control socket
            (default /run/smegmesh/smegd.sock) and prints the answers.

            Exit codes: 0 success, 1 error, 2 usage error.
            """,
        version: SmegVersion.string,
        subcommands: [Version.self]
    )

    struct Version: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the smegctl version.")

        func run() {
            print("smegctl \(SmegVersion.string)")
        }
    }
}
