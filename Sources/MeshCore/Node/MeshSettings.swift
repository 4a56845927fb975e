import GossipCRDT

/// The daemon-wide settings a mesh's core and shell need (smegd takes them from its
/// configuration).
public struct MeshSettings: Sendable {
    public var gossipPort: UInt16
    public var gossip: GossipConfig
    public var mtu: Int
    public var backend: WireGuardBackendChoice
    public var controlPlaneOnly: Bool
    public var reconcileDebounce: Duration
    public var manageForwarding: Bool
    /// How often dirty membership is written to disk at most.
    public var persistInterval: Duration = .seconds(1)
    /// How long a leaving node keeps gossiping so its departure spreads.
    public var leaveGrace: Duration = .seconds(1)
    /// How long every member keeps the sessions of a client the leader pruned (its own
    /// addresses, not its routes): a laptop back within it finds its data plane as it left it,
    /// and its peer answers its first handshake before gossip has re-added it
    /// (docs/operations.md, "Sleep, wake, network changes and restarts"). Zero: none.
    public var prunedClientGrace: Duration = .seconds(120)
    /// Whether a client publishes candidates and punches direct paths to other clients
    /// (docs/routing.md, "Direct paths between clients"); off, it relays as before and tells
    /// the others so by publishing no candidates.
    public var directPaths = true

    public init(
        gossipPort: UInt16, gossip: GossipConfig, mtu: Int, backend: WireGuardBackendChoice, controlPlaneOnly: Bool,
        reconcileDebounce: Duration, manageForwarding: Bool
    ) {
        self.gossipPort = gossipPort
        self.gossip = gossip
        self.mtu = mtu
        self.backend = backend
        self.controlPlaneOnly = controlPlaneOnly
        self.reconcileDebounce = reconcileDebounce
        self.manageForwarding = manageForwarding
    }

    /// Loopback endpoints are accepted only among control-plane-only daemons: those share one
    /// machine and publish 127.0.0.1, while a daemon that programs WireGuard must never be
    /// pointed at its own host by another member.
    public var endpointPolicy: EndpointPolicy { controlPlaneOnly ? .loopbackLab : .strict }

    /// The engine wants a tick at least every sync interval; half of it keeps heartbeat and
    /// prune timers within a tenth of a second at the defaults while an idle daemon wakes only
    /// ten times a second (hundreds of daemons share one machine in tests and benchmarks).
    public var tickInterval: Duration {
        min(max(gossip.syncInterval / 2, .milliseconds(20)), .milliseconds(250))
    }
}
