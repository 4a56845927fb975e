import MeshCore

/// The JSON a test or an operator hands to `smeg-netcheck apply`: one WireGuard interface with
/// its device configuration, addresses and routes, in `wg`'s vocabulary (base64 keys,
/// "[addr]:port" endpoints, CIDR prefixes).
struct NetworkSpec: Codable {
    var interface: String
    var mtu: UInt32?
    var up: Bool?
    var privateKey: WireGuardKey?
    var listenPort: UInt16?
    var fwmark: UInt32?
    var peers: [PeerSpec]?
    var addresses: [IPNet]?
    /// Add IPv6 addresses with IFA_F_NOPREFIXROUTE (routes come from `routes` instead).
    var noPrefixRoute: Bool?
    /// Destinations routed out of this interface.
    var routes: [IPNet]?

    struct PeerSpec: Codable {
        var publicKey: WireGuardKey
        var presharedKey: WireGuardKey?
        var endpoint: WireGuardEndpoint?
        var allowedIPs: [IPNet]?
        var persistentKeepalive: UInt16?
    }

    /// The desired device; peers are managed only when the spec lists them.
    var device: WireGuardDevice {
        WireGuardDevice(
            name: interface, privateKey: privateKey, listenPort: listenPort, fwmark: fwmark,
            peers: (peers ?? []).map {
                WireGuardPeer(
                    publicKey: $0.publicKey, presharedKey: $0.presharedKey, endpoint: $0.endpoint,
                    allowedIPs: $0.allowedIPs ?? [], persistentKeepalive: $0.persistentKeepalive ?? 0)
            })
    }
}

/// What `dump` prints: the state as read back through our own netlink and backend code.
struct NetworkState: Codable {
    var interface: String
    var backend: WireGuardBackendKind
    var mtu: UInt32
    var up: Bool
    var device: WireGuardDevice
    var addresses: [AddressState]
    var routes: [RouteState]

    struct AddressState: Codable {
        var prefix: IPNet
        var noPrefixRoute: Bool
    }

    struct RouteState: Codable {
        var destination: IPNet
        var gateway: String?
        var metric: UInt32?
        var table: UInt32
        var proto: UInt8
    }
}

/// What `apply` prints: what it had to change.
struct ApplyReport: Codable {
    var interface: String
    var backend: WireGuardBackendKind
    var peersAdded = 0
    var peersChanged = 0
    var peersRemoved = 0
    var deviceFieldsChanged = 0
    var addressesAdded: [IPNet] = []
    var addressesRemoved: [IPNet] = []
    var routesReplaced: [IPNet] = []
    var routesRemoved: [IPNet] = []
    var seconds = 0.0
}
