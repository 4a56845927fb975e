import ArgumentParser
import MeshAPI

struct Leave: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Leave a mesh: tell the members, remove its interface and forget its keys.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Mesh id or name.")
    var mesh: String

    func run() throws {
        _ = try global.client.call(ControlAPI.leave(mesh))
        print("Left mesh \(mesh).")
    }
}

struct Alias: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Set this node's alias in a mesh.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Mesh id or name.")
    var mesh: String

    @Argument(help: "New alias (DNS label: a-z, 0-9, -).")
    var alias: String

    func run() throws {
        _ = try global.client.call(ControlAPI.setAlias(mesh, alias))
        print("Alias set to \(alias).")
    }
}

struct Describe: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Set this node's description in a mesh.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Mesh id or name.")
    var mesh: String

    @Argument(help: "Free text.")
    var text: String

    func run() throws {
        _ = try global.client.call(ControlAPI.setDescription(mesh, text))
        print("Description set.")
    }
}

struct Service: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Advertise or withdraw a service (a key/value pair) on this node.",
        subcommands: [Set.self, Delete.self])

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Advertise a service: smegctl service set MESH NAME VALUE")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Mesh id or name.") var mesh: String
        @Argument(help: "Service name.") var name: String
        @Argument(help: "Service value.") var value: String

        func run() throws {
            _ = try global.client.call(ControlAPI.setService(mesh, name: name, value: value))
            print("Service \(name) set.")
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Withdraw a service: smegctl service delete MESH NAME")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Mesh id or name.") var mesh: String
        @Argument(help: "Service name.") var name: String

        func run() throws {
            _ = try global.client.call(ControlAPI.deleteService(mesh, name: name))
            print("Service \(name) deleted.")
        }
    }
}
