import ArgumentParser

/// The original smegmesh verb names, accepted but not listed in help, so scripts written for
/// it keep working.
enum LegacyAliases {
    static let all: [any ParsableCommand.Type] = [
        NewMesh.self, JoinMesh.self, LeaveMesh.self, ListMeshes.self, GetGraph.self, QueryMesh.self,
        PutAlias.self, PutDescription.self, SetService.self, DeleteService.self,
    ]

    struct NewMesh: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "new-mesh", shouldDisplay: false)
        @OptionGroup var command: Create
        func run() throws { try command.run() }
    }

    struct JoinMesh: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "join-mesh", shouldDisplay: false)
        @OptionGroup var command: Join
        func validate() throws { try command.validate() }
        func run() throws { try command.run() }
    }

    struct LeaveMesh: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "leave-mesh", shouldDisplay: false)
        @OptionGroup var command: Leave
        func run() throws { try command.run() }
    }

    struct ListMeshes: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list-meshes", shouldDisplay: false)
        @OptionGroup var command: List
        func run() throws { try command.run() }
    }

    struct GetGraph: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "get-graph", shouldDisplay: false)
        @OptionGroup var command: Graph
        func run() throws { try command.run() }
    }

    struct QueryMesh: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "query-mesh", shouldDisplay: false)
        @OptionGroup var command: Query
        func run() throws { try command.run() }
    }

    struct PutAlias: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "put-alias", shouldDisplay: false)
        @OptionGroup var command: Alias
        func run() throws { try command.run() }
    }

    struct PutDescription: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "put-description", shouldDisplay: false)
        @OptionGroup var command: Describe
        func run() throws { try command.run() }
    }

    struct SetService: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set-service", shouldDisplay: false)
        @OptionGroup var command: Service.Set
        func run() throws { try command.run() }
    }

    struct DeleteService: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete-service", shouldDisplay: false)
        @OptionGroup var command: Service.Delete
        func run() throws { try command.run() }
    }
}
