import Logging
import MeshCore

/// Answers DNS queries for mesh member names on the `dnsListen` addresses (docs/dns.md).
///
/// One UDP socket per address, no TCP: every answer fits a datagram (a name has a handful of
/// addresses), and a truncated answer tells the client so. Each datagram is answered by the
/// pure `DNSResponder` from the current zone snapshot; a datagram it cannot use is counted,
/// never fatal.
struct DNSServer: Sendable {
    let sockets: [UDPSocket]
    let zones: ZoneSnapshots
    let metrics: MetricsRegistry

    /// Binds every address, or none: a socket already bound is closed if a later one fails.
    static func bind(
        _ endpoints: [Endpoint], zones: ZoneSnapshots, metrics: MetricsRegistry, logger: Logger
    ) throws -> DNSServer {
        let options = UDPSocket.Options(
            freeBind: true, maximumDatagram: DNSResponder.ednsLimit + 1, inboundBuffer: 256,
            threadName: "smegd-dns-rx")
        var sockets: [UDPSocket] = []
        do {
            for endpoint in endpoints {
                let host: String
                switch endpoint.host {
                case .ipv4(let address): host = "\(address)"
                case .ipv6(let address): host = "\(address)"
                case .name(let name): host = name  // refused by the configuration; bind reports it
                }
                sockets.append(
                    try UDPSocket.bind(
                        host: host, port: Int(endpoint.port), options: options, purpose: "the DNS socket",
                        logger: logger))
            }
        } catch {
            for socket in sockets { socket.close() }
            throw error
        }
        return DNSServer(sockets: sockets, zones: zones, metrics: metrics)
    }

    /// Answers until the sockets close or the task is cancelled.
    func serve() async {
        await withDiscardingTaskGroup { group in
            for socket in sockets {
                group.addTask { await serve(socket) }
            }
        }
    }

    private func serve(_ socket: UDPSocket) async {
        for await datagram in socket.datagrams {
            let responder = DNSResponder(zone: await zones.current())
            guard let reply = responder.respond(to: datagram.bytes) else {
                metrics.increment("smeg_dns_dropped_total")
                continue
            }
            metrics.increment("smeg_dns_queries_total", labels: ["rcode": reply.rcode.name])
            socket.send(reply.bytes, to: datagram.source)
        }
    }

    func close() {
        for socket in sockets { socket.close() }
    }
}
