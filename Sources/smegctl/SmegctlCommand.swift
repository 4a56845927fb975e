import ArgumentParser
import MeshAPI

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The operator's CLI; it talks to the local `smegd` over its control socket.
@main
struct SmegctlCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smegctl",
        abstract: "Control the local smegmesh daemon (smegd).",
        discussion: """
            smegctl sends requests to smegd over its Unix control socket (default \
            /run/smegmesh/smegd.sock, or $SMEG_SOCKET, or --socket) and prints the answers.

            Owners (the node that ran `create`, and members it makes owners) sign who is a \
            member, invitations and evictions; every member checks those signatures and gossip \
            spreads them, so there is no server to run or to lose (docs/owners.md).

            Start a mesh on one machine; it prints the mesh id and an invitation:
              smegctl create --alias web1
            Join it on every other machine:
              smegctl join smeg2-...
            Invite one more node (valid 24 h), evict one for good (rotates the secret), and \
            say who may reach whom (docs/acl.md):
              smegctl invite MESH
              smegctl evict MESH stolen-laptop
              smegctl acl set MESH policy.acl
            Members, addresses, leader and paths; the path to one member and round trips; \
            the topology as a picture:
              smegctl get MESH
              smegctl ping MESH laptop
              smegctl graph | dot -Tsvg > mesh.svg

            Read verbs take --json for scripts. Exit codes: 0 success, 1 error, 2 usage error.
            """,
        version: SmegVersion.string,
        subcommands: [
            Create.self, Join.self, Leave.self, List.self, Get.self, Graph.self, Query.self, Alias.self,
            Describe.self, Service.self, Status.self, Ping.self, Invite.self, Invites.self, Evict.self, Owner.self,
            Rotate.self,
            Policy.self, Acl.self, Tag.self, Untag.self,
            Hosts.self,
            VersionCommand.self,
        ] + LegacyAliases.all
    )

    /// Maps outcomes to the documented exit codes: usage errors are 2 (argument-parser says 64).
    static func main() {
        do {
            var command = try parseAsRoot(GlobalArguments.hoistingSocket(Array(CommandLine.arguments.dropFirst())))
            try command.run()
        } catch let failure as CLIFailure {
            Output.error(failure.description)
            StandardStreams.exit(ExitStatus.failure)
        } catch let failure as CLIUsageFailure {
            for line in failure.description.split(separator: "\n") { Output.error(String(line)) }
            StandardStreams.exit(ExitStatus.usage)
        } catch let error as ControlClientError {
            Output.error(error.description)
            StandardStreams.exit(ExitStatus.failure)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                exit(withError: error)  // --help, --version
            }
            let message = fullMessage(for: error)
            if !message.isEmpty { StandardStreams.writeError(message + "\n") }
            StandardStreams.exit(code == .validationFailure ? ExitStatus.usage : ExitStatus.failure)
        }
    }
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the smegctl version.")

    func run() {
        print("smegctl \(SmegVersion.string)")
    }
}

/// `--socket` is accepted before the verb too (`smegctl --socket PATH list`), as people type it.
enum GlobalArguments {
    /// Moves a leading `--socket PATH` / `--socket=PATH` to the end, where the innermost verb
    /// (`service set ...` included) parses it.
    static func hoistingSocket(_ arguments: [String]) -> [String] {
        var leading: [String] = []
        var rest = arguments[...]
        while let first = rest.first, first.hasPrefix("--socket") {
            if first == "--socket", rest.count >= 2 {
                leading += rest.prefix(2)
                rest = rest.dropFirst(2)
            } else if first.hasPrefix("--socket=") {
                leading.append(first)
                rest = rest.dropFirst()
            } else {
                break
            }
        }
        guard !leading.isEmpty, let verb = rest.first, !verb.hasPrefix("-") else { return arguments }
        if let terminator = rest.firstIndex(of: "--") {
            return Array(rest[..<terminator]) + leading + Array(rest[terminator...])
        }
        return Array(rest) + leading
    }
}
