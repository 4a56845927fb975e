import ArgumentParser
import MeshAPI
import MeshControl

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Options every verb accepts.
struct GlobalOptions: ParsableArguments {
    static let defaultSocket = "/run/smegmesh/smegd.sock"

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Control socket of smegd (default: $SMEG_SOCKET or \(defaultSocket)).", valueName: "path"))
    var socket: String?

    var socketPath: String {
        socket ?? ProcessInfo.processInfo.environment["SMEG_SOCKET"] ?? Self.defaultSocket
    }

    var client: ControlClient { ControlClient(socketPath: socketPath) }
}

/// `--json` for read verbs: print the API's JSON (stable field names, docs/api.md) instead of text.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print JSON with stable field names instead of text.")
    var json = false
}
