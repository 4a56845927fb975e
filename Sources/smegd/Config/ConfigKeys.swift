import MeshCore

/// The one table of configuration keys: the YAML loader, the `--set key=value` flag and the
/// documentation check all read it, so a key cannot exist in one place and not another.
struct ConfigKey: Sendable {
    let name: String
    /// What the value must look like, quoted in errors ("an integer from 1 to 16").
    let expected: String
    let apply: @Sendable (inout DaemonConfig, String) -> Bool

    static let all: [ConfigKey] = [
        text("stateDir", "an absolute path") { config, value in
            guard value.hasPrefix("/") else { return false }
            config.stateDir = value
            return true
        },
        text("socket", "an absolute path") { config, value in
            guard value.hasPrefix("/"), value.utf8.count < 108 else { return false }
            config.socket = value
            return true
        },
        text("socketGroup", "a group name") { config, value in
            guard !value.isEmpty, value.utf8.count <= 32 else { return false }
            config.socketGroup = value
            return true
        },
        integer("controlConnections", 1...4096) { $0.controlConnections = $1 },
        integer("gossipPort", 1...65535) { $0.gossipPort = $1 },
        text("gossipBind", "an IP address such as :: or 0.0.0.0") { config, value in
            guard !value.isEmpty, value.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return false }
            config.gossipBind = value
            return true
        },
        choice("logLevel", DaemonConfig.LogLevelChoice.self) { $0.logLevel = $1 },
        text("metricsListen", "HOST:PORT on loopback, or \"off\"") { config, value in
            if value == "off" {
                config.metricsListen = nil
                return true
            }
            guard let colon = value.lastIndex(of: ":"), let port = Int(value[value.index(after: colon)...]),
                (1...65535).contains(port)
            else { return false }
            let host = value[..<colon]
            guard host == "127.0.0.1" || host == "[::1]" || host == "localhost" else { return false }
            config.metricsListen = value
            return true
        },
        duration("syncInterval", .milliseconds(10)...(.seconds(60))) { $0.syncInterval = $1 },
        duration("heartbeatInterval", .milliseconds(100)...(.seconds(300))) { $0.heartbeatInterval = $1 },
        integer("fanout", 1...16) { $0.fanout = $1 },
        integer("maxMembers", 2...100_000) { $0.maxMembers = $1 },
        integer("newMembersPerSecond", 1...10_000) { $0.newMembersPerSecond = $1 },
        choice("wireguardBackend", WireGuardBackendChoice.self) { $0.wireguardBackend = $1 },
        integer("mtu", 1280...9000) { $0.mtu = $1 },
        boolean("controlPlaneOnly") { $0.controlPlaneOnly = $1 },
        boolean("removeInterfacesOnShutdown") { $0.removeInterfacesOnShutdown = $1 },
        duration("reconcileDebounce", .zero...(.seconds(10))) { $0.reconcileDebounce = $1 },
        duration("prunedClientGrace", .zero...(.seconds(3600))) { $0.prunedClientGrace = $1 },
        boolean("directPaths") { $0.directPaths = $1 },
        choice("forwarding", DaemonConfig.ForwardingChoice.self) { $0.forwarding = $1 },
        text("dnsListen", DNSConfigText.listenExpected) { config, value in
            guard let endpoints = DNSConfigText.listen(value) else { return false }
            config.dnsListen = endpoints
            return true
        },
        text("dnsZone", DNSConfigText.zoneExpected) { config, value in
            guard let zone = DNSConfigText.zone(value) else { return false }
            config.dnsZone = zone
            return true
        },
        text("hostsFile", "an absolute path other than /etc/hosts, or \"off\"") { config, value in
            if value == "off" {
                config.hostsFile = nil
                return true
            }
            // Replacing the system's own files would drop localhost and every other entry.
            guard value.hasPrefix("/"), !value.hasSuffix("/"), value != "/etc/hosts", value != "/etc/resolv.conf"
            else { return false }
            config.hostsFile = value
            return true
        },
    ]

    static func named(_ name: String) -> ConfigKey? {
        all.first { $0.name == name }
    }

    private static func text(
        _ name: String, _ expected: String, _ apply: @escaping @Sendable (inout DaemonConfig, String) -> Bool
    ) -> ConfigKey {
        ConfigKey(name: name, expected: expected, apply: apply)
    }

    private static func integer(
        _ name: String, _ range: ClosedRange<Int>, _ set: @escaping @Sendable (inout DaemonConfig, Int) -> Void
    ) -> ConfigKey {
        ConfigKey(name: name, expected: "an integer from \(range.lowerBound) to \(range.upperBound)") { config, value in
            guard let number = Int(value), range.contains(number) else { return false }
            set(&config, number)
            return true
        }
    }

    private static func duration(
        _ name: String, _ range: ClosedRange<Duration>,
        _ set: @escaping @Sendable (inout DaemonConfig, Duration) -> Void
    ) -> ConfigKey {
        let bounds = "\(DurationText.format(range.lowerBound)) and \(DurationText.format(range.upperBound))"
        return ConfigKey(name: name, expected: "a duration such as 200ms or 1s, between \(bounds)") { config, value in
            guard let parsed = DurationText.parse(value), range.contains(parsed) else { return false }
            set(&config, parsed)
            return true
        }
    }

    private static func boolean(
        _ name: String, _ set: @escaping @Sendable (inout DaemonConfig, Bool) -> Void
    ) -> ConfigKey {
        ConfigKey(name: name, expected: "true or false") { config, value in
            switch value {
            case "true": set(&config, true)
            case "false": set(&config, false)
            default: return false
            }
            return true
        }
    }

    private static func choice<Choice: RawRepresentable & CaseIterable & Sendable>(
        _ name: String, _ type: Choice.Type, _ set: @escaping @Sendable (inout DaemonConfig, Choice) -> Void
    ) -> ConfigKey where Choice.RawValue == String {
        let names = Choice.allCases.map(\.rawValue).joined(separator: ", ")
        return ConfigKey(name: name, expected: "one of \(names)") { config, value in
            guard let parsed = Choice(rawValue: value) else { return false }
            set(&config, parsed)
            return true
        }
    }
}
