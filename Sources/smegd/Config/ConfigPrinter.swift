/// Prints the effective settings in the file's own format, so `smegd --check-config` output can
/// be saved as a starting configuration file.
enum ConfigPrinter {
    static func yaml(_ config: DaemonConfig) -> String {
        var lines: [String] = []
        for (key, value) in values(config) {
            lines.append("\(key): \(value)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Every key with its value as text, in table order; absent optionals print as comments.
    static func values(_ config: DaemonConfig) -> [(String, String)] {
        [
            ("stateDir", config.stateDir),
            ("socket", config.socket),
            ("socketGroup", config.socketGroup ?? "root"),
            ("controlConnections", "\(config.controlConnections)"),
            ("gossipPort", "\(config.gossipPort)"),
            ("gossipBind", "\"\(config.gossipBind)\""),
            ("logLevel", config.logLevel.rawValue),
            ("metricsListen", config.metricsListen.map { "\"\($0)\"" } ?? "off"),
            ("syncInterval", DurationText.format(config.syncInterval)),
            ("heartbeatInterval", DurationText.format(config.heartbeatInterval)),
            ("fanout", "\(config.fanout)"),
            ("maxMembers", "\(config.maxMembers)"),
            ("newMembersPerSecond", "\(config.newMembersPerSecond)"),
            ("wireguardBackend", config.wireguardBackend.rawValue),
            ("mtu", "\(config.mtu)"),
            ("controlPlaneOnly", "\(config.controlPlaneOnly)"),
            ("removeInterfacesOnShutdown", "\(config.removeInterfacesOnShutdown)"),
            ("reconcileDebounce", DurationText.format(config.reconcileDebounce)),
            ("prunedClientGrace", DurationText.format(config.prunedClientGrace)),
            ("directPaths", "\(config.directPaths)"),
            ("forwarding", config.forwarding.rawValue),
            ("dnsListen", config.dnsListen.isEmpty ? "off" : "\"\(DNSConfigText.listenText(config.dnsListen))\""),
            ("dnsZone", config.dnsZone),
            ("hostsFile", config.hostsFile ?? "off"),
        ]
    }
}
