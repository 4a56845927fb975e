import GossipCRDT
import MeshCore

extension MeshSettings {
    /// The settings of every mesh of this daemon, from its configuration.
    init(config: DaemonConfig, gossipPort: UInt16) {
        var gossip = GossipConfig()
        gossip.syncInterval = config.syncInterval
        gossip.heartbeatInterval = config.heartbeatInterval
        gossip.fanout = config.fanout
        gossip.maxMembers = config.maxMembers
        gossip.newMembersPerSecond = config.newMembersPerSecond
        gossip.newMemberBurst = config.newMembersPerSecond * 8
        self.init(
            gossipPort: gossipPort, gossip: gossip, mtu: config.mtu, backend: config.wireguardBackend,
            controlPlaneOnly: config.controlPlaneOnly, reconcileDebounce: config.reconcileDebounce,
            manageForwarding: config.forwarding == .auto)
        prunedClientGrace = config.prunedClientGrace
        directPaths = config.directPaths
    }
}
