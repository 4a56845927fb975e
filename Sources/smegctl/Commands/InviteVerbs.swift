import ArgumentParser
import MeshAPI

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

struct Invite: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make an invitation to a mesh (owners), or revoke one.",
        discussion: """
            An invitation is a ticket this node signs as an owner, plus where this node answers. \
            It carries no secret: the joiner proves it holds the ticket to this node, which counts \
            the use and seals the mesh secret to the joiner's own key. So this node must be \
            running and reachable when the invitation is used, an invitation that expired, was \
            used up or revoked admits nobody, and rotating the secret leaves it valid.

            By default an invitation admits one node within 24 hours:
              smegctl invite MESH
            Five nodes within a week:
              smegctl invite MESH --uses 5 --expires 7d
            A guest device, which may only be a client:
              smegctl invite MESH --role client
            What was issued and how many uses are left; revoking one:
              smegctl invites MESH
              smegctl invite revoke MESH ID
            """,
        subcommands: [Make.self, Revoke.self], defaultSubcommand: Make.self)

    struct Make: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "new", abstract: "Print a new invitation (the default: `smegctl invite MESH`).")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions

        @Argument(help: "Mesh id or name.")
        var mesh: String

        @Option(
            help: ArgumentHelp(
                "How long it stays valid: 30m, 12h, 7d (default 24h, at most 365d).", valueName: "duration"))
        var expires: String?

        @Option(help: ArgumentHelp("How many nodes may join with it (default 1, at most 1000).", valueName: "n"))
        var uses: Int?

        @Option(help: ArgumentHelp("member (default: peer or client) or client (clients only).", valueName: "role"))
        var role: String?

        @Flag(help: "Whoever joins with it also becomes an owner.")
        var owner = false

        @Flag(help: "Meshes made before owners only: print the mesh secret (base64), as `join --secret-file` reads it.")
        var secret = false

        func validate() throws {
            if secret && output.json { throw ValidationError("give --secret or --json, not both") }
            if let expires, InviteDuration.seconds(expires) == nil {
                throw ValidationError("--expires takes a number and a unit: 90s, 30m, 12h or 7d")
            }
            if let role, role != "member" && role != "client" { throw ValidationError("--role is member or client") }
            if let uses, uses < 1 { throw ValidationError("--uses must be at least 1") }
        }

        func run() throws {
            if secret {
                let invite = try global.client.call(ControlAPI.invite(mesh))
                guard let value = invite.secret, invite.token.hasPrefix(InviteResponse.tokenPrefix) else {
                    throw CLIFailure(
                        "this mesh has owners: joining needs an invitation, and invitations carry no secret")
                }
                print(value)
                return
            }
            let request = CreateInviteRequest(
                expiresSeconds: expires.flatMap(InviteDuration.seconds), uses: uses, role: role,
                owner: owner ? true : nil)
            let invite = try global.client.call(ControlAPI.createInvite(mesh, request))
            if output.json { return try Output.json(invite) }
            print(invite.token)
            if let view = invite.invite {
                let owner = view.makesOwner ? ", makes an owner" : ""
                Output.note(
                    "invite \(view.id): \(view.uses) use(s), \(view.role)\(owner), expires \(TextTable.timestamp(view.expiresAtMillis))"
                )
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke an invite for good (owners).")

        @OptionGroup var global: GlobalOptions

        @Argument(help: "Mesh id or name.")
        var mesh: String

        @Argument(help: "The invite's id, as `smegctl invites MESH` lists it.")
        var id: String

        func run() throws {
            _ = try global.client.call(ControlAPI.revokeInvite(mesh, id: id))
            print("Invite \(id) revoked; nobody can join with it any more.")
        }
    }
}

struct Invites: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the invitations this node issued, with uses left and expiry.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "Mesh id or name.")
    var mesh: String

    func run() throws {
        let invites = try global.client.call(ControlAPI.invites(mesh))
        if output.json { return try Output.json(invites) }
        guard !invites.invites.isEmpty else {
            print("This node issued no invitations for mesh \(invites.meshId).")
            return
        }
        print(
            TextTable.render(
                ["ID", "STATE", "USES LEFT", "ROLE", "EXPIRES", "ISSUED"],
                invites.invites.map { invite in
                    [
                        invite.id, invite.state, "\(invite.usesLeft)/\(invite.uses)",
                        invite.role + (invite.makesOwner ? ", owner" : ""),
                        TextTable.timestamp(invite.expiresAtMillis), TextTable.timestamp(invite.issuedAtMillis),
                    ]
                }))
    }
}

/// `--expires` as people type it.
enum InviteDuration {
    static func seconds(_ text: String) -> Int? {
        guard let unit = text.last, let number = Int(text.dropLast()), number > 0 else { return nil }
        let scale: Int
        switch unit {
        case "s": scale = 1
        case "m": scale = 60
        case "h": scale = 3600
        case "d": scale = 86400
        default: return nil
        }
        let (seconds, overflow) = number.multipliedReportingOverflow(by: scale)
        return overflow ? nil : seconds
    }
}
