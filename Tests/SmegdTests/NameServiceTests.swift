import Foundation
import GossipCRDT
import Logging
import Synchronization
import Testing

@testable import MeshCore
@testable import smegd

/// The daemon's side of mesh names: settings, snapshots, the hosts file and `GET /v1/hosts`.
@Suite struct NameServiceTests {
    static let zone = DNSZone(
        origin: DomainName("smeg")!,
        meshes: [
            DNSZone.Mesh(
                id: MeshID(bytes: Array(0..<10))!, name: "lab",
                members: [
                    DNSZone.Member(
                        id: NodeID(0x1a2b_3c4d << 32, 0, 0, 0), alias: "web", address: IPv6Address("fd00::1")!)
                ])
        ])

    // MARK: Settings

    @Test func dnsSettingsParse() throws {
        var config = try ConfigLoader.parse(
            "dnsListen: \"127.0.0.1:5353, [fd00::1]:53\"\ndnsZone: Mesh.Example.COM.\nhostsFile: /run/smegmesh/hosts\n",
            source: "t.yaml")
        #expect(config.dnsListen == [Endpoint("127.0.0.1:5353")!, Endpoint("[fd00::1]:53")!])
        #expect(config.dnsZone == "mesh.example.com")
        #expect(config.hostsFile == "/run/smegmesh/hosts")
        config.socketGroup = "smeg"  // printed as "root" when unset, which reads back as a group
        #expect(try ConfigLoader.parse(ConfigPrinter.yaml(config), source: "printed") == config)
        try ConfigLoader.applyOverride("dnsListen=off", to: &config)
        try ConfigLoader.applyOverride("hostsFile=off", to: &config)
        #expect(config.dnsListen.isEmpty && config.hostsFile == nil)
        #expect(DaemonConfig().dnsListen.isEmpty && DaemonConfig().dnsZone == "smeg" && DaemonConfig().hostsFile == nil)
    }

    @Test(arguments: [
        "dnsListen=0.0.0.0:53", "dnsListen=[::]:53", "dnsListen=localhost:53", "dnsListen=127.0.0.1",
        "dnsListen=127.0.0.1:0", "dnsListen=127.0.0.1:53,127.0.0.1:53", "dnsListen=127.0.0.1:53,",
        "dnsListen=[ff02::1]:53", "dnsListen=",
        "dnsListen=" + (1...9).map { "127.0.0.\($0):53" }.joined(separator: ","),
        "dnsZone=", "dnsZone=under_score", "dnsZone=a..b", "dnsZone=10.0.0.1",
        "dnsZone=" + String(repeating: "a.", count: 64),
        "hostsFile=relative", "hostsFile=/etc/hosts", "hostsFile=/etc/resolv.conf", "hostsFile=/run/dir/",
    ])
    func badDNSSettingsAreRefused(assignment: String) {
        var config = DaemonConfig()
        #expect(throws: ConfigError.self) { try ConfigLoader.applyOverride(assignment, to: &config) }
    }

    // MARK: Sockets

    @Test func dnsSocketsBindAddressesTheHostDoesNotHaveYet() throws {
        // Documentation addresses no interface has: without IP(V6)_FREEBIND, EADDRNOTAVAIL.
        let port = Int.random(in: 20_000...60_000)
        let endpoints = [Endpoint("192.0.2.53:\(port)")!, Endpoint("[2001:db8::53]:\(port)")!]
        let server = try DNSServer.bind(
            endpoints, zones: ZoneSnapshots { Self.zone }, metrics: MetricsRegistry(), logger: Logger(label: "test"))
        defer { server.close() }
        #expect(server.sockets.map(\.localPort) == [port, port])
    }

    // MARK: Snapshots

    @Test func snapshotsAreRebuiltAtMostOncePerSecond() async {
        let clock = Mutex(ContinuousClock.now)
        let builds = Atomic<Int>(0)
        let zones = ZoneSnapshots(now: { clock.withLock { $0 } }) {
            builds.add(1, ordering: .relaxed)
            return Self.zone
        }
        for _ in 0..<5 { _ = await zones.current() }
        #expect(builds.load(ordering: .relaxed) == 1)
        clock.withLock { $0 += .milliseconds(999) }
        _ = await zones.current()
        #expect(builds.load(ordering: .relaxed) == 1)
        clock.withLock { $0 += .milliseconds(1) }
        _ = await zones.current()
        #expect(builds.load(ordering: .relaxed) == 2)
        // The API asks for the latest membership whatever the age.
        #expect(await zones.hostsText() == HostsFile.render(Self.zone))
        #expect(builds.load(ordering: .relaxed) == 3)
    }

    // MARK: Hosts file

    @Test func hostsFileIsWrittenOnlyWhenItsTextChanges() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "smegd-hosts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("hosts").path
        let current = Mutex(Self.zone)
        let clock = Mutex(ContinuousClock.now)
        let zones = ZoneSnapshots(now: { clock.withLock { $0 } }) { current.withLock { $0 } }
        let metrics = MetricsRegistry()
        let writer = HostsFileWriter(path: path, zones: zones, metrics: metrics, logger: Logger(label: "test"))
        func writes() -> Double { metrics.value("smeg_hosts_file_writes_total", labels: ["result": "ok"]) ?? 0 }

        var state = HostsFileWriter.State()
        await writer.check(&state)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == HostsFile.render(Self.zone))
        var attributes = stat()
        #expect(stat(path, &attributes) == 0 && attributes.st_mode & 0o777 == 0o644)
        let inode = attributes.st_ino

        for _ in 0..<3 {
            clock.withLock { $0 += .seconds(1) }
            await writer.check(&state)
        }
        #expect(writes() == 1)
        #expect(stat(path, &attributes) == 0 && attributes.st_ino == inode)  // not replaced

        current.withLock { $0 = DNSZone(origin: DomainName("smeg")!, meshes: []) }
        clock.withLock { $0 += .seconds(1) }
        await writer.check(&state)
        #expect(writes() == 2)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == HostsFile.header)

        // A daemon restarted with an unchanged membership leaves the file alone.
        var restarted = HostsFileWriter.State(written: try String(contentsOfFile: path, encoding: .utf8))
        await writer.check(&restarted)
        #expect(writes() == 2)
    }

    @Test func hostsFileFailuresAreCountedAndRetried() async {
        let zones = ZoneSnapshots { Self.zone }
        let metrics = MetricsRegistry()
        let writer = HostsFileWriter(
            path: "/nonexistent-\(UUID().uuidString)/hosts", zones: zones, metrics: metrics,
            logger: Logger(label: "test"))
        var state = HostsFileWriter.State()
        await writer.check(&state)
        await writer.check(&state)
        #expect(metrics.value("smeg_hosts_file_writes_total", labels: ["result": "error"]) == 2)
        #expect(state.written == nil && state.failure != nil)
    }
}
