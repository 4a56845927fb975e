import ArgumentParser
import MeshAPI

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the meshes this node is in.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let response = try global.client.call(ControlAPI.listMeshes())
        if output.json { return try Output.json(response) }
        if response.meshes.isEmpty {
            print("This node is in no mesh. Start one with `smegctl create` or join with `smegctl join TOKEN`.")
            return
        }
        print(TextTable.meshes(response.meshes))
    }
}

struct Get: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a mesh and its members.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "Mesh id or name.")
    var mesh: String

    func run() throws {
        let detail = try global.client.call(ControlAPI.mesh(mesh))
        if output.json { return try Output.json(detail) }
        print(TextTable.meshHeader(detail.mesh))
        print("")
        print(TextTable.members(detail.members) + TextTable.removed(detail.removed ?? []))
        if let routing = detail.routing, !routing.isEmpty {
            print("")
            print(TextTable.routing(routing, members: detail.members))
        }
    }
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Is my mesh healthy? Daemon and mesh status.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let status = try global.client.call(ControlAPI.status())
        if output.json { return try Output.json(status) }
        print(TextTable.status(status, socket: global.socketPath))
    }
}

struct Graph: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the topology as Graphviz DOT (pipe it to `dot -Tsvg`).")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "Only this mesh (id or name); default: every mesh of this node.")
    var mesh: String?

    func run() throws {
        var graph = try global.client.call(ControlAPI.graph())
        if let mesh {
            graph.meshes = graph.meshes.filter { $0.mesh.meshId == mesh || $0.mesh.name == mesh }
            guard !graph.meshes.isEmpty else { throw CLIFailure("this node is in no mesh called '\(mesh)'") }
        }
        if output.json { return try Output.json(graph) }
        print(DOTGraph.render(graph), terminator: "")
    }
}

struct Query: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Select members of a mesh by alias, role or service; prints JSON.",
        discussion: "Filters combine with AND. Example: smegctl query home --role peer --service http")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Mesh id or name.")
    var mesh: String

    @Option(help: "Only members whose alias matches (exact, or a prefix ending in *).")
    var alias: String?

    @Option(help: "Only members with this role (peer or client).")
    var role: String?

    @Option(help: ArgumentHelp("Only members offering a service: NAME or NAME=VALUE.", valueName: "service"))
    var service: String?

    func run() throws {
        let detail = try global.client.call(ControlAPI.mesh(mesh))
        let filter = MemberFilter(alias: alias, role: role, service: service)
        try Output.json(detail.members.filter(filter.matches))
    }
}

struct Hosts: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print every mesh member's addresses and DNS names in /etc/hosts format.",
        discussion: """
            One line per address: the IPv6 overlay address, and the IPv4 one with the same names \
            for a member that has one. The text smegd writes to its hostsFile when that is set; \
            see docs/dns.md.
            """)

    @OptionGroup var global: GlobalOptions

    func run() throws {
        print(try global.client.call(ControlAPI.hosts()), terminator: "")
    }
}
