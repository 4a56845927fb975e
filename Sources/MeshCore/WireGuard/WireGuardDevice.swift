#if canImport(Glibc)
    import Glibc
#endif

/// A UDP endpoint given as an address literal: WireGuard itself never resolves names, so
/// resolution belongs to whoever computes the desired state.
public struct WireGuardEndpoint: Hashable, Sendable, CustomStringConvertible, Codable {
    /// 4 or 16 bytes.
    public let address: [UInt8]
    public let port: UInt16

    public init?(address: [UInt8], port: UInt16) {
        guard address.count == 4 || address.count == 16 else { return nil }
        self.address = address
        self.port = port
    }

    /// Parses "192.0.2.1:51820" or "[2001:db8::1]:51820" (the form `wg` and UAPI use).
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else {
            return nil
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
            // A zone ("%eth0") cannot be carried by the kernel interface either; refuse it.
            guard !host.contains("%"), let bytes = IPNet.parseAddress(host), bytes.count == 16 else { return nil }
            self.init(address: bytes, port: port)
        } else {
            guard let bytes = IPNet.parseAddress(host), bytes.count == 4 else { return nil }
            self.init(address: bytes, port: port)
        }
    }

    public var description: String {
        address.count == 16 ? "[\(IPNet.format(address))]:\(port)" : "\(IPNet.format(address)):\(port)"
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = WireGuardEndpoint(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad endpoint"))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// One peer of a device: what is configured plus, when read from a device, its statistics.
public struct WireGuardPeer: Hashable, Sendable, Codable {
    public var publicKey: WireGuardKey
    public var presharedKey: WireGuardKey?
    /// In a desired state, nil means "leave whatever the device has": the endpoint of a NAT'd
    /// client is only known after it roams to us, and overwriting it would cut it off.
    public var endpoint: WireGuardEndpoint?
    public var allowedIPs: [IPNet]
    /// Seconds; 0 turns it off.
    public var persistentKeepalive: UInt16

    // Read-only statistics, filled in by `device(named:)` and ignored by reconciliation.
    /// Seconds since the epoch of the last completed handshake, nil if there has been none.
    public var lastHandshake: Double?
    public var rxBytes: UInt64
    public var txBytes: UInt64

    public init(
        publicKey: WireGuardKey, presharedKey: WireGuardKey? = nil, endpoint: WireGuardEndpoint? = nil,
        allowedIPs: [IPNet] = [], persistentKeepalive: UInt16 = 0
    ) {
        self.publicKey = publicKey
        self.presharedKey = presharedKey
        self.endpoint = endpoint
        self.allowedIPs = allowedIPs
        self.persistentKeepalive = persistentKeepalive
        self.lastHandshake = nil
        self.rxBytes = 0
        self.txBytes = 0
    }

    /// The peer without its statistics, for comparing configuration.
    public var configuration: WireGuardPeer {
        var copy = self
        copy.lastHandshake = nil
        copy.rxBytes = 0
        copy.txBytes = 0
        return copy
    }
}

/// A WireGuard interface: the configuration `wg showconf` prints, plus what `wg show` adds.
public struct WireGuardDevice: Hashable, Sendable, Codable {
    public var name: String
    public var privateKey: WireGuardKey?
    /// Derived by the device from the private key; read-only.
    public var publicKey: WireGuardKey?
    /// In a desired state, nil means "leave it"; a device always reports one (0 until bound).
    public var listenPort: UInt16?
    /// In a desired state, nil means "leave it"; 0 is off.
    public var fwmark: UInt32?
    public var peers: [WireGuardPeer]

    public init(
        name: String, privateKey: WireGuardKey? = nil, listenPort: UInt16? = nil, fwmark: UInt32? = nil,
        peers: [WireGuardPeer] = []
    ) {
        self.name = name
        self.privateKey = privateKey
        self.publicKey = nil
        self.listenPort = listenPort
        self.fwmark = fwmark
        self.peers = peers
    }

    public func peer(_ key: WireGuardKey) -> WireGuardPeer? {
        peers.first { $0.publicKey == key }
    }
}

/// A set of changes to a device, in the vocabulary both kernel and UAPI interfaces share
/// (the `WGDEVICE_A_*`/`WGPEER_A_*` attributes and the `set=1` keys map one to one).
public struct WireGuardDeviceUpdate: Hashable, Sendable {
    public var privateKey: WireGuardKey?
    public var listenPort: UInt16?
    public var fwmark: UInt32?
    /// Remove every peer not listed (a full rewrite; reconciliation never uses it).
    public var replacePeers: Bool
    public var peers: [WireGuardPeerUpdate]

    public init(
        privateKey: WireGuardKey? = nil, listenPort: UInt16? = nil, fwmark: UInt32? = nil, replacePeers: Bool = false,
        peers: [WireGuardPeerUpdate] = []
    ) {
        self.privateKey = privateKey
        self.listenPort = listenPort
        self.fwmark = fwmark
        self.replacePeers = replacePeers
        self.peers = peers
    }

    public var isEmpty: Bool {
        privateKey == nil && listenPort == nil && fwmark == nil && !replacePeers && peers.isEmpty
    }
}

/// Changes to one peer; nil fields are not sent and so keep the device's value.
public struct WireGuardPeerUpdate: Hashable, Sendable {
    public var publicKey: WireGuardKey
    public var remove: Bool
    /// Fail-safe for updates: do nothing if the peer vanished meanwhile instead of re-creating it.
    public var updateOnly: Bool
    public var presharedKey: WireGuardKey?
    public var endpoint: WireGuardEndpoint?
    public var persistentKeepalive: UInt16?
    /// Replace the peer's AllowedIPs with `allowedIPs` instead of adding to them.
    public var replaceAllowedIPs: Bool
    public var allowedIPs: [IPNet]

    public init(
        publicKey: WireGuardKey, remove: Bool = false, updateOnly: Bool = false, presharedKey: WireGuardKey? = nil,
        endpoint: WireGuardEndpoint? = nil, persistentKeepalive: UInt16? = nil, replaceAllowedIPs: Bool = false,
        allowedIPs: [IPNet] = []
    ) {
        self.publicKey = publicKey
        self.remove = remove
        self.updateOnly = updateOnly
        self.presharedKey = presharedKey
        self.endpoint = endpoint
        self.persistentKeepalive = persistentKeepalive
        self.replaceAllowedIPs = replaceAllowedIPs
        self.allowedIPs = allowedIPs
    }

    /// A peer to create from scratch.
    public static func add(_ peer: WireGuardPeer) -> WireGuardPeerUpdate {
        WireGuardPeerUpdate(
            publicKey: peer.publicKey, presharedKey: peer.presharedKey, endpoint: peer.endpoint,
            persistentKeepalive: peer.persistentKeepalive == 0 ? nil : peer.persistentKeepalive,
            replaceAllowedIPs: true, allowedIPs: peer.allowedIPs)
    }

    public static func removal(_ key: WireGuardKey) -> WireGuardPeerUpdate {
        WireGuardPeerUpdate(publicKey: key, remove: true)
    }
}

/// Failures of the WireGuard layer that are not plain netlink errors.
public enum WireGuardError: Error, CustomStringConvertible, Equatable {
    case invalidKey
    case noSuchDevice(String)
    /// The userspace implementation answered `errno=N` to a request.
    case uapi(operation: String, errno: Int32)
    case malformedUAPI(String)
    case socket(operation: String, errno: Int32)
    case userspaceStartFailed(String)
    case kernelModuleMissing

    public var description: String {
        switch self {
        case .invalidKey: return "invalid WireGuard key"
        case .noSuchDevice(let name): return "no WireGuard device named \(name)"
        case .uapi(let operation, let code):
            return "\(operation): userspace WireGuard answered errno=\(code) (\(String(cString: strerror(code))))"
        case .malformedUAPI(let line): return "malformed UAPI response: \(line)"
        case .socket(let operation, let code): return "\(operation): \(String(cString: strerror(code)))"
        case .userspaceStartFailed(let reason): return "could not start userspace WireGuard: \(reason)"
        case .kernelModuleMissing: return "the kernel has no WireGuard module (generic netlink family missing)"
        }
    }
}
