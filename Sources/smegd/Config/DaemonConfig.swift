import MeshCore

/// Daemon-wide settings. Per-mesh settings (role, ports, endpoint, routes) are chosen at
/// `create`/`join` time and persisted with the mesh, not configured here.
///
/// Every default lets `smegd` run with no configuration file at all; docs/configuration.md lists
/// each key, and `ConfigTests.everyKeyIsDocumentedWithItsDefault` checks that the document and
/// this type agree.
struct DaemonConfig: Equatable, Sendable {
    enum LogLevelChoice: String, CaseIterable, Sendable {
        case trace, debug, info, notice, warning, error, critical
    }

    /// Keys, mesh secrets, per-mesh settings and the last known membership.
    var stateDir = "/var/lib/smegmesh"
    /// The control socket smegctl talks to.
    var socket = "/run/smegmesh/smegd.sock"
    /// Group given access to the control socket (mode 0660); nil keeps root's group.
    var socketGroup: String?
    /// Control connections served at once; more are answered 503 and closed, so a looping
    /// client cannot use up the daemon's file descriptors.
    var controlConnections = HTTPServer.defaultMaximumConnections
    /// One UDP port for the gossip of every mesh this node is in.
    var gossipPort = 51900
    /// Address the gossip port binds to ("::" = all, dual stack).
    var gossipBind = "::"
    var logLevel = LogLevelChoice.info
    /// Loopback address and port of the Prometheus endpoint; nil disables it.
    var metricsListen: String? = "127.0.0.1:9469"
    var syncInterval = Duration.milliseconds(200)
    var heartbeatInterval = Duration.seconds(1)
    var fanout = 3
    /// Members (and removals) each mesh's store holds at most; new identities beyond are refused.
    var maxMembers = 10_000
    /// New identities each mesh accepts per second, after a burst of eight times as many.
    var newMembersPerSecond = 50
    var wireguardBackend = WireGuardBackendChoice.auto
    /// MTU of the mesh interfaces.
    var mtu = 1420
    /// Control-plane-only mode: gossip and API work, but no interface, peer, address or route is
    /// touched. Used for benchmarks and for many daemons on one machine.
    var controlPlaneOnly = false
    /// Remove the mesh interfaces on shutdown. Off by default so traffic keeps flowing across a
    /// daemon restart or upgrade.
    var removeInterfacesOnShutdown = false
    /// Quiet time after a membership change before the kernel state is reconciled.
    var reconcileDebounce = Duration.milliseconds(100)
    /// How long every member keeps a pruned client's sessions (docs/operations.md).
    var prunedClientGrace = Duration.seconds(120)
    /// Whether this node, as a client, punches direct paths to other clients (docs/routing.md).
    var directPaths = true
    /// Whether smegd turns on IP forwarding when this node starts relaying for other members.
    var forwarding = ForwardingChoice.auto

    enum ForwardingChoice: String, CaseIterable, Sendable {
        /// Enable IPv6 (and, for IPv4 routes, IPv4) forwarding once this node relays.
        case auto
        /// Never touch the forwarding sysctls: the operator manages them.
        case off
    }
    /// Addresses the DNS responder answers on (docs/dns.md); empty: no responder.
    var dnsListen: [Endpoint] = []
    /// The DNS zone member names live under: `<alias>.<mesh>.<dnsZone>`.
    var dnsZone = "smeg"
    /// Where the /etc/hosts-format export is kept; nil: no file.
    var hostsFile: String?
}
