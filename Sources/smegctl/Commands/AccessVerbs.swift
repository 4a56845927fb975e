import ArgumentParser
import MeshAPI
import MeshControl

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Access control (docs/acl.md): the owner-signed policy of who may open which flows to whom,
/// and the tags owners give members for it.
struct Acl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "acl",
        abstract: "Show, replace or check the mesh's access policy (replacing: owners).",
        discussion: overview,
        subcommands: [Show.self, Set.self, Check.self], defaultSubcommand: Show.self)

    /// Also `show`'s: `smegctl acl --help` prints the default subcommand's help.
    static let overview = """
        Until an owner signs a policy, every member reaches every other. With one, a flow is \
        denied unless a rule allows it; rules are directional (replies come back, the other \
        side cannot open flows of its own), and a pair no rule connects has no WireGuard \
        session at all. One rule per line, `#` comments:
          allow tag:laptop -> tag:server tcp/22,443 icmp
          allow * -> tag:dns udp/53
          allow guest-tablet -> media1 tcp/8096
        A side is `*`, `tag:NAME` (see `smegctl tag`) or a member (alias, short id or key, \
        signed as its key). Without protocols a rule allows everything.
          smegctl acl MESH > policy.acl          # the policy in force, as a file
          smegctl acl set MESH policy.acl        # sign it (owners)
          smegctl acl check MESH laptop web1 22  # may laptop open tcp/22 on web1?
        """

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the policy in force, who signed it, and the members' tags.", discussion: overview)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions

        @Argument(help: "Mesh id or name.")
        var mesh: String

        func run() throws {
            let view = try global.client.call(ControlAPI.accessPolicy(mesh))
            if output.json { return try Output.json(view) }
            print(AccessText.policy(view), terminator: "")
        }
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace the policy with the rules in FILE (owners).",
            discussion: """
                FILE is checked here first, then on this node against the members it knows; \
                any error is printed with its line and column, exit status 2, and nothing is \
                signed. Every member applies the new version within seconds: its WireGuard \
                sessions and its nftables rules follow it, and flows the new version no longer \
                allows stop at their next packet, open ones included (docs/acl.md).
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions

        @Argument(help: "Mesh id or name.")
        var mesh: String

        @Argument(help: ArgumentHelp("The policy file; - reads standard input.", valueName: "file"))
        var file: String

        func run() throws {
            let text = try Self.read(file)
            // smegd parses the text (smegctl links no policy parser, docs/operations.md) and
            // answers every error with its line and column, which are located in the file here.
            let view: AccessPolicyView
            do {
                view = try global.client.call(ControlAPI.setAccessPolicy(mesh, text: text))
            } catch ControlClientError.api(400, let message) where message.hasPrefix("line ") {
                throw CLIUsageFailure(Self.located(message, in: file))
            }
            if output.json { return try Output.json(view) }
            print(
                "Access policy of mesh \(view.meshId) is version \(view.version ?? 0) (\(view.rules) rules); "
                    + "every member applies it within seconds.")
        }

        /// Each error line prefixed with the file's name, as compilers print them.
        static func located(_ errors: String, in file: String) -> String {
            let name = file == "-" ? "<stdin>" : file
            return errors.split(separator: "\n").map { "\(name): \($0)" }.joined(separator: "\n")
        }

        static func read(_ file: String) throws -> String {
            let limit = AccessPolicyRequest.maxTextBytes
            let data: Data
            if file == "-" {
                data = Data(StandardStreams.readInput(limit: limit + 1))
            } else {
                guard let bytes = StandardStreams.read(path: file, limit: limit + 1) else {
                    throw CLIUsageFailure("cannot read \(file)")
                }
                data = Data(bytes)
            }
            guard data.count <= limit else {
                throw CLIUsageFailure("\(file) is larger than \(limit) bytes, more than a policy may be")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw CLIUsageFailure("\(file) is not UTF-8 text")
            }
            return text
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Say whether FROM may open a flow to TO, and which rule decides.",
            discussion: """
                FROM and TO are members as `smegctl get` names them (alias, short id, key or \
                overlay address). With PORT the flow is tcp to that port unless --proto says \
                udp; without PORT, any traffic (or any port of --proto). Exit status 0 when the \
                flow is allowed, 1 when it is denied.
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions

        @Argument(help: "Mesh id or name.")
        var mesh: String

        @Argument(help: "The member opening the flow.")
        var from: String

        @Argument(help: "The member it goes to.")
        var to: String

        @Argument(help: "The destination port (tcp unless --proto udp).")
        var port: Int?

        @Option(name: .customLong("proto"), help: ArgumentHelp("tcp, udp or icmp.", valueName: "protocol"))
        var proto: String?

        var request: AccessCheckRequest { AccessCheckRequest(from: from, to: to, protocol: proto, port: port) }

        func validate() throws { try TagChange.usage { _ = try request.flow() } }

        func run() throws {
            let answer = try global.client.call(ControlAPI.checkAccess(mesh, request))
            if output.json {
                try Output.json(answer)
            } else {
                print(AccessText.check(answer))
            }
            if !answer.allowed { throw ExitCode.failure }
        }
    }
}

/// `smegctl tag` and `smegctl untag`: owners give members tags and take them away.
struct Tag: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Give a member tags that access rules name as tag:NAME (owners).",
        discussion: """
            Tags are signed by an owner and spread to every member, so no member can give \
            itself one. A tag is 1 to 32 of a-z, 0-9 and '-'; a member carries at most 8. \
            `smegctl get MESH` shows them.
              smegctl tag MESH laptop1 laptop
              smegctl untag MESH laptop1 laptop
            """)

    @OptionGroup var change: TagChange

    func validate() throws { try change.validate(TagChangeRequest(add: change.tags)) }
    func run() throws { try change.run(TagChangeRequest(add: change.tags)) }
}

struct Untag: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Take tags away from a member (owners).")

    @OptionGroup var change: TagChange

    func validate() throws { try change.validate(TagChangeRequest(remove: change.tags)) }
    func run() throws { try change.run(TagChangeRequest(remove: change.tags)) }
}

/// What `tag` and `untag` share: their arguments, the check before sending, and the answer.
struct TagChange: ParsableArguments {
    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "Mesh id or name.")
    var mesh: String

    @Argument(help: "The member: alias, key, or a unique start of the key.")
    var member: String

    @Argument(help: "The tags (NAME or tag:NAME).")
    var tags: [String]

    func validate(_ request: TagChangeRequest) throws { try Self.usage { _ = try request.parsed() } }

    /// A check the daemon makes too, made here first so that a mistake is a usage error (2).
    static func usage(_ check: () throws -> Void) throws {
        do {
            try check()
        } catch {
            throw ValidationError("\(error)")
        }
    }

    func run(_ request: TagChangeRequest) throws {
        let view = try global.client.call(ControlAPI.changeTags(mesh, member: member, request))
        if output.json { return try Output.json(view) }
        let name = view.alias ?? view.shortId
        print(
            view.tags.isEmpty
                ? "\(name) carries no tags now." : "\(name) carries \(view.tags.joined(separator: ", ")) now.")
    }
}
