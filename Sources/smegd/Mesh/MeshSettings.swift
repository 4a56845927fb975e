import GossipCRDT
import MeshCore

/// The daemon-wide settings a mesh runtime needs, taken from `DaemonConfig`.
struct MeshSettings: Sendable {
    var gossipPort: UInt16
    var gossip: GossipConfig
    var mtu: Int
    var backend: WireGuardBackendChoice
    var controlPlaneOnly: Bool
    var reconcileDebounce: Duration
    var manageForwarding: Bool
    /// How often dirty membership is written to disk at most.
    var persistInterval: Duration = .seconds(1)
    /// How long a leaving node keeps gossiping so its departure spreads.
    var leaveGrace: Duration = .seconds(1)

    init(config: DaemonConfig, gossipPort: UInt16) {
        self.gossipPort = gossipPort
        var gossip = GossipConfig()
        gossip.syncInterval = config.syncInterval
        gossip.heartbeatInterval = config.heartbeatInterval
        gossip.fanout = config.fanout
        gossip.maxMembers = config.maxMembers
        gossip.newMembersPerSecond = config.newMembersPerSecond
        gossip.newMemberBurst = config.newMembersPerSecond * 8
        self.gossip = gossip
        self.mtu = config.mtu
        self.backend = config.wireguardBackend
        self.controlPlaneOnly = config.controlPlaneOnly
        self.reconcileDebounce = config.reconcileDebounce
        self.manageForwarding = config.forwarding == .auto
    }

    /// Loopback endpoints are accepted only among control-plane-only daemons: those share one
    /// machine and publish 127.0.0.1, while a daemon that programs WireGuard must never be
    /// pointed at its own host by another member.
    var endpointPolicy: EndpointPolicy { controlPlaneOnly ? .loopbackLab : .strict }

    /// The engine wants a tick at least every sync interval; half of it keeps heartbeat and
    /// prune timers within a tenth of a second at the defaults while an idle daemon wakes only
    /// ten times a second (hundreds of daemons share one machine in tests and benchmarks).
    var tickInterval: Duration {
        min(max(gossip.syncInterval / 2, .milliseconds(20)), .milliseconds(250))
    }
}
