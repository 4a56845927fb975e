import ArgumentParser
import Foundation
import MeshCore
import MeshLinux

#if canImport(Glibc)
    import Glibc
#endif

/// Programs WireGuard interfaces, addresses and routes with MeshCore's own netlink and UAPI
/// code — never `wg` or `ip` — so the namespace and VM tests exercise exactly what `smegd` runs,
/// and reads the state back as JSON for those tests to compare with `wg show` and `ip`.
@main
struct NetCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smeg-netcheck",
        abstract: "Apply and dump WireGuard/rtnetlink state through smegmesh's MeshCore (test and timing tool).",
        subcommands: [Apply.self, Dump.self, Delete.self, PeerSet.self, Bench.self, GenKey.self, PubKey.self])
}

struct BackendOptions: ParsableArguments {
    @Option(help: "WireGuard backend: auto, kernel or userspace.")
    var backend: WireGuardBackendChoice = .auto

    @Option(help: "Directory of userspace UAPI sockets.")
    var socketDirectory = UserspaceWireGuardBackend.defaultSocketDirectory

    func open(_ interface: String) throws -> any WireGuardBackend {
        try WireGuardBackendSelector.open(interface: interface, choice: backend, socketDirectory: socketDirectory) {
            FileHandle.standardError.write(Data("smeg-netcheck: \($0)\n".utf8))
        }
    }
}

extension WireGuardBackendChoice: ExpressibleByArgument {}

func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

struct Apply: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create the interface if needed and reconcile it to a JSON spec (file or - for stdin).")

    @Argument(help: "Path of the NetworkSpec JSON.")
    var spec: String

    @OptionGroup var options: BackendOptions

    func run() throws {
        let data =
            spec == "-"
            ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: spec))
        let wanted = try JSONDecoder().decode(NetworkSpec.self, from: data)
        let started = monotonicSeconds()
        let backend = try options.open(wanted.interface)
        var report = ApplyReport(interface: wanted.interface, backend: backend.kind)
        var desired = wanted.device
        if wanted.peers == nil { desired.peers = try backend.device(named: wanted.interface).peers }
        let update = try backend.reconcile(desired)
        report.deviceFieldsChanged =
            [update.privateKey != nil, update.listenPort != nil, update.fwmark != nil]
            .filter { $0 }.count
        for peer in update.peers {
            if peer.remove {
                report.peersRemoved += 1
            } else if peer.updateOnly {
                report.peersChanged += 1
            } else {
                report.peersAdded += 1
            }
        }
        let route = try NetlinkSocket.route()
        if wanted.mtu != nil || wanted.up != nil {
            try route.setLink(name: wanted.interface, up: wanted.up, mtu: wanted.mtu)
        }
        if let addresses = wanted.addresses {
            let options = AddressOptions(noPrefixRoute: wanted.noPrefixRoute ?? false)
            let plan = try route.reconcileAddresses(link: wanted.interface, desired: addresses, options: options)
            report.addressesAdded = plan.add
            report.addressesRemoved = plan.remove
        }
        if let routes = wanted.routes {
            let plan = try route.reconcileRoutes(
                link: wanted.interface, desired: routes.map { RouteEntry(destination: $0) })
            report.routesReplaced = plan.replace.map(\.destination)
            report.routesRemoved = plan.remove.map(\.destination)
        }
        report.seconds = monotonicSeconds() - started
        try printJSON(report)
    }
}

struct Dump: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print an interface's state as JSON.")

    @Argument var interface: String
    @OptionGroup var options: BackendOptions

    func run() throws {
        let route = try NetlinkSocket.route()
        guard let link = try route.dumpLinks().first(where: { $0.name == interface }) else {
            throw ValidationError("no interface named \(interface)")
        }
        let backend = try options.open(interface)
        let addresses = try route.dumpAddresses(link: interface).map {
            NetworkState.AddressState(prefix: $0.prefix, noPrefixRoute: $0.hasNoPrefixRoute)
        }
        var routes: [RouteEntry] = []
        for family in [AF_INET6, AF_INET] { routes += try route.dumpRoutes(family: family, link: interface) }
        let state = NetworkState(
            interface: interface, backend: backend.kind, mtu: link.mtu, up: link.isUp,
            device: try backend.device(named: interface), addresses: addresses,
            routes: routes.map {
                NetworkState.RouteState(
                    destination: $0.destination, gateway: $0.gateway.map(IPNet.format), metric: $0.metric,
                    table: $0.table, proto: $0.proto)
            })
        try printJSON(state)
    }
}

struct Delete: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Delete an interface (a userspace daemon exits with it).")

    @Argument var interface: String

    func run() throws {
        try NetlinkSocket.route().deleteLink(name: interface)
    }
}

struct GenKey: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "genkey", abstract: "Print a new private key (like wg genkey).")

    func run() throws {
        print(try WireGuardKey.generatePrivate().base64)
    }
}

struct PubKey: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pubkey", abstract: "Read a private key on stdin, print its public key.")

    func run() throws {
        let text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        guard let key = WireGuardKey(base64: text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw ValidationError("stdin is not a base64 WireGuard key")
        }
        print(try key.publicKey().base64)
    }
}
