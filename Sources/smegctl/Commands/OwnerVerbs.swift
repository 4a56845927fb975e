import ArgumentParser
import MeshAPI

/// Owners' decisions. Owners are members whose keys may sign what the mesh decides; the mesh
/// id commits to the first (the node that ran `create`), and owners make more owners.
struct Evict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evict a member for good (owners only).",
        discussion: """
            Owners sign decisions that every member checks and gossip spreads; there is no server. \
            An eviction is permanent: every member drops the evicted node's WireGuard peer and refuses \
            its records and frames within seconds, and the node, if it is still running, tears the \
            mesh down. The mesh secret is rotated at the same time, and the invitation that \
            admitted the node is revoked. To let that machine back in, it needs a new invitation.

            MEMBER is an alias, a WireGuard key, or the start of one (a short id from `smegctl get`). \
            A member that is offline can be evicted by its full key.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "Mesh id or name.")
    var mesh: String

    @Argument(help: "The member to evict: alias, key, or a unique start of the key.")
    var member: String

    func run() throws {
        let detail = try global.client.call(ControlAPI.evict(mesh, member: member))
        if output.json { return try Output.json(detail) }
        print("Evicted \(member) from mesh \(detail.mesh.meshId); members drop it within seconds.")
    }
}

struct Owner: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make members owners, or remove owners (owners only).",
        discussion: """
            Owners sign admissions, evictions and settings, and can make other members owners. \
            Have at least two, on different machines, so that losing one does not leave the mesh \
            without anyone who can evict or invite. Seniority decides between owners: the founder \
            (who ran `create`) first, then by who granted whom; an owner's decisions bind only \
            owners junior to it, so a stolen junior owner key cannot remove a senior owner.
            """,
        subcommands: [Add.self, Remove.self, ListOwners.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a present member an owner.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions

        @Argument(help: "Mesh id or name.")
        var mesh: String

        @Argument(help: "The member: alias, key, or a unique start of the key.")
        var member: String

        func run() throws {
            let owners = try global.client.call(ControlAPI.addOwner(mesh, member: member))
            if output.json { return try Output.json(owners) }
            print("\(member) is now an owner of mesh \(owners.meshId) (\(owners.owners.count) owners).")
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a junior owner (it stays a member).")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions

        @Argument(help: "Mesh id or name.")
        var mesh: String

        @Argument(help: "The owner: alias, key, or a unique start of the key.")
        var member: String

        func run() throws {
            let owners = try global.client.call(ControlAPI.removeOwner(mesh, member: member))
            if output.json { return try Output.json(owners) }
            print("\(member) is no longer an owner of mesh \(owners.meshId) (\(owners.owners.count) owners left).")
        }
    }

    struct ListOwners: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List the owners, most senior first.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions

        @Argument(help: "Mesh id or name.")
        var mesh: String

        func run() throws {
            let owners = try global.client.call(ControlAPI.owners(mesh))
            if output.json { return try Output.json(owners) }
            print(TextTable.owners(owners))
        }
    }
}

struct Rotate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Give the mesh a new secret (owners; eviction does it by itself).",
        discussion: """
            The new secret reaches every member sealed to its own key, with a commitment signed \
            by this owner, so no member can hand out a secret of its own; frames under the old \
            secret are refused after 30 s. A member that was offline asks for the new secret by \
            itself when it returns, and only admitted members that are not evicted get it. \
            Outstanding invitations stay valid: they carry no secret.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "Mesh id or name.")
    var mesh: String

    func run() throws {
        let detail = try global.client.call(ControlAPI.rotate(mesh))
        if output.json { return try Output.json(detail) }
        print("Rotated the secret of mesh \(detail.mesh.meshId); members switch within seconds.")
    }
}

struct Policy: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show or change the mesh's name and route policy (changing: owners).",
        discussion: """
            The route policy says which routes members may advertise: by default only prefixes \
            inside the mesh's own /48. `create` signs the first settings; owners replace them with \
            a signed, versioned statement that every member applies (the newest version wins), \
            and a member's routes the new policy forbids stop being used at once.
              smegctl policy show MESH
              smegctl policy set MESH --allow-exit-nodes \\
                --allow-route 192.168.1.0/24

            `set` replaces the whole policy: flags not given are off.
            """,
        subcommands: [Show.self, Set.self])

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the settings in force.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions

        @Argument(help: "Mesh id or name.")
        var mesh: String

        func run() throws {
            let detail = try global.client.call(ControlAPI.mesh(mesh))
            if output.json { return try Output.json(detail.mesh) }
            print(TextTable.meshHeader(detail.mesh))
        }
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Replace the name and route policy (owners).")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions

        @Argument(help: "Mesh id or name.")
        var mesh: String

        @Option(help: ArgumentHelp("The mesh's name (a DNS label); omitted: keep the current one.", valueName: "name"))
        var name: String?

        @Flag(help: "Let members advertise the default route (exit nodes).")
        var allowExitNodes = false

        @Flag(help: "Let members bridge other meshes into this one.")
        var allowBridgedMeshes = false

        @Option(
            name: .customLong("allow-route"),
            help: ArgumentHelp(
                "Let members advertise this prefix or anything inside it (repeatable).", valueName: "prefix"))
        var allowedRoutes: [String] = []

        func run() throws {
            let current = try global.client.call(ControlAPI.mesh(mesh)).mesh
            let policy = RoutePolicyView(
                allowExitNodes: allowExitNodes ? true : nil, allowBridgedMeshes: allowBridgedMeshes ? true : nil,
                allowedPrefixes: allowedRoutes.isEmpty ? nil : allowedRoutes)
            let detail = try global.client.call(
                ControlAPI.setSettings(mesh, SettingsRequest(name: name ?? current.name, policy: policy)))
            if output.json { return try Output.json(detail.mesh) }
            print("Settings of mesh \(detail.mesh.meshId) replaced; every member applies them within seconds.")
        }
    }
}
