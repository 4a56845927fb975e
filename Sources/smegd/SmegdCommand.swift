import ArgumentParser
import MeshCore

/// The daemon's command line. Flags override the configuration file key of the same name.
@main
struct SmegdCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smegd",
        abstract: "The smegmesh daemon: gossips mesh membership and programs WireGuard on this node.",
        discussion: """
            Every node of a mesh runs smegd. There is no server: the daemons gossip a replicated
            membership store to each other and each one turns it into WireGuard peers, addresses and
            routes on its own machine. Operators talk to the local daemon with `smegctl` over a Unix
            socket.

            Typical use (as root):
              smegd                                 # defaults, no configuration file needed
              smegd --config /etc/smegmesh/smegd.yaml --log-level debug
            """,
        version: SmegVersion.string
    )

    @Option(name: .long, help: ArgumentHelp("Configuration file (YAML).", valueName: "path"))
    var config: String = "/etc/smegmesh/smegd.yaml"

    @Option(name: .long, help: ArgumentHelp("Directory for keys, mesh secrets and membership.", valueName: "dir"))
    var stateDir: String?

    @Option(name: .long, help: ArgumentHelp("Control socket for smegctl.", valueName: "path"))
    var socket: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String?

    func run() throws {
        throw ValidationError(
            """
            this build of smegd has no daemon loop yet (version \(SmegVersion.string)); \
            the gossip, control API and WireGuard services are under construction
            """)
    }
}
