import ArgumentParser
import Glibc
import Logging
import MeshCore
import ServiceLifecycle

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The daemon's command line. Flags override the configuration file.
@main
struct SmegdCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smegd",
        abstract: "The smegmesh daemon: gossips mesh membership and programs WireGuard on this node.",
        discussion: """
            Every node of a mesh runs smegd. There is no server: the daemons gossip a replicated \
            membership store to each other and each one turns it into WireGuard peers, addresses \
            and routes on its own machine. Operators talk to the local daemon with `smegctl` over \
            a Unix socket.

            Settings come from defaults, then the configuration file (a flat YAML mapping, see \
            docs/configuration.md), then --set and the flags below, later ones winning.

            Typical use (as root), with defaults and no configuration file:
              smegd
            With a configuration file and more logging:
              smegd --config /etc/smegmesh/smegd.yaml --log-level debug
            To validate and print the effective settings:
              smegd --check-config
            """,
        version: SmegVersion.string
    )

    @Option(name: .long, help: ArgumentHelp("Configuration file (YAML).", valueName: "path"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("Directory for keys, mesh secrets and membership.", valueName: "dir"))
    var stateDir: String?

    @Option(name: .long, help: ArgumentHelp("Control socket for smegctl.", valueName: "path"))
    var socket: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String?

    @Option(name: .long, help: ArgumentHelp("UDP port for gossip, shared by every mesh.", valueName: "port"))
    var gossipPort: Int?

    @Flag(name: .long, help: "Gossip and serve the API, but never touch interfaces, peers or routes.")
    var controlPlaneOnly = false

    @Option(
        name: .long,
        help: ArgumentHelp("Override any configuration key (repeatable), e.g. --set fanout=4.", valueName: "key=value"))
    var set: [String] = []

    @Flag(name: .long, help: "Check the configuration, print the effective settings and exit.")
    var checkConfig = false

    static let defaultConfigPath = "/etc/smegmesh/smegd.yaml"

    /// Merges defaults, the file and the flags. Only an explicitly named file must exist.
    func effectiveConfig() throws -> DaemonConfig {
        var result = try ConfigLoader.load(path: config ?? Self.defaultConfigPath, required: config != nil)
        var overrides = set
        if let stateDir { overrides.append("stateDir=\(stateDir)") }
        if let socket { overrides.append("socket=\(socket)") }
        if let logLevel { overrides.append("logLevel=\(logLevel)") }
        if let gossipPort { overrides.append("gossipPort=\(gossipPort)") }
        if controlPlaneOnly { overrides.append("controlPlaneOnly=true") }
        for assignment in overrides {
            try ConfigLoader.applyOverride(assignment, to: &result)
        }
        return result
    }

    func run() throws {
        let settings: DaemonConfig
        do {
            settings = try effectiveConfig()
        } catch let error as ConfigError {
            Self.exitWithError("configuration error: \(error)")
        }
        if checkConfig {
            print(ConfigPrinter.yaml(settings), terminator: "")
            return
        }
        if !settings.controlPlaneOnly && geteuid() != 0 {
            Self.exitWithError(
                "smegd needs root (CAP_NET_ADMIN) to program WireGuard interfaces; run it as root, "
                    + "or use --control-plane-only to gossip without touching the network")
        }
        let level = Logger.Level(rawValue: settings.logLevel.rawValue) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "smegd")
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [Daemon(config: settings, logger: logger)], gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        do {
            try MainThread.wait { try await group.run() }
        } catch {
            Self.exitWithError("\(error)")
        }
    }

    /// Operational failures are not usage errors: print one line, no usage text, and exit 1.
    static func exitWithError(_ message: String) -> Never {
        _ = FileDescriptorIO.writeAll(STDERR_FILENO, Array("smegd: \(message)\n".utf8))
        Glibc.exit(1)
    }
}
