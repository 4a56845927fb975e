import Logging
import MeshCore

/// Mesh names as the daemon serves them: the DNS responder when `dnsListen` is set, the hosts
/// file when `hostsFile` is set, and the zone snapshots behind both and `GET /v1/hosts`.
struct NameService: Sendable {
    let zones: ZoneSnapshots
    let server: DNSServer?
    let hostsWriter: HostsFileWriter?

    /// Binds the DNS sockets (an error if any address cannot be bound).
    static func bind(
        config: DaemonConfig, directory: MeshDirectory, metrics: MetricsRegistry, logger: Logger
    ) throws -> NameService {
        guard let origin = DomainName(config.dnsZone) else {
            throw ConfigError(source: "dnsZone", message: "'\(config.dnsZone)' is not a DNS name")
        }
        let zones = ZoneSnapshots { await directory.dnsZone(origin: origin) }
        var server: DNSServer?
        if !config.dnsListen.isEmpty {
            server = try DNSServer.bind(config.dnsListen, zones: zones, metrics: metrics, logger: logger)
            logger.info("DNS for \(config.dnsZone) on udp \(DNSConfigText.listenText(config.dnsListen))")
        }
        let writer = config.hostsFile.map { HostsFileWriter(path: $0, zones: zones, metrics: metrics, logger: logger) }
        return NameService(zones: zones, server: server, hostsWriter: writer)
    }

    /// Serves until cancelled.
    func run() async {
        await withDiscardingTaskGroup { group in
            if let server { group.addTask { await server.serve() } }
            if let hostsWriter { group.addTask { await hostsWriter.run() } }
        }
    }

    func close() {
        server?.close()
    }

    static func declareMetrics(_ metrics: MetricsRegistry) {
        metrics.declare("smeg_dns_queries_total", .counter, help: "DNS queries answered, by response code.")
        metrics.declare(
            "smeg_dns_dropped_total", .counter,
            help: "DNS datagrams left unanswered: shorter than a header, or responses.")
        metrics.declare("smeg_hosts_file_writes_total", .counter, help: "Writes of the hosts file export, by result.")
    }
}
