import ArgumentParser
import MeshCore

/// Owners' decisions. Owners are members whose keys may sign what the mesh decides; the mesh
/// id commits to the first (the node that ran `create`), and owners make more owners.
struct Evict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evict a member for good (owners only).",
        discussion: """
            Owners sign decisions that every member checks and gossip spreads; there is no server. \
            An eviction is permanent: every member drops the evicted node's WireGuard peer and refuses \
            its records and frames within seconds, and the node, if it is still running, tears the \
            mesh down. To let that machine back in, it needs a new identity and a new invite.

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
