import Logging
import NIOCore
import NIOPosix

/// Serves `GET /metrics` on a loopback TCP port for Prometheus.
struct MetricsEndpoint: Sendable {
    let registry: MetricsRegistry
    let logger: Logger

    var http: HTTPServer {
        HTTPServer(maximumBody: 0, logger: logger) { [registry] request in
            guard request.method == "GET", request.path == "/metrics" || request.path.hasPrefix("/metrics?") else {
                return HTTPReply(status: 404, body: Array("try GET /metrics\n".utf8), contentType: "text/plain")
            }
            return HTTPReply(
                status: 200, body: Array(registry.exposition().utf8), contentType: "text/plain; version=0.0.4")
        }
    }

    /// Splits "127.0.0.1:9469" or "[::1]:9469" into host and port (validated by the config).
    static func hostAndPort(_ listen: String) -> (String, Int)? {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) else {
            return nil
        }
        var host = String(listen[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, port)
    }
}
