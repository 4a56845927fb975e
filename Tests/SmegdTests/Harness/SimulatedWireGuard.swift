import GossipCRDT

@testable import MeshCore
@testable import smegd

/// WireGuard's handshake, as far as reachability goes, for the harness: no cryptography, but
/// the same rules about who may start a session and where packets go. A peer is only
/// answered when it is configured; an endpoint is learnt from the source of every packet that
/// arrives (roaming); an initiation is retried every 5 s for 90 s; a session with a keepalive is
/// renewed every two minutes; a persistent keepalive sends
/// a packet every N seconds of silence; a side that sent and heard nothing back for 15 s starts
/// a new handshake; a packet for a session the receiver no longer has is dropped. So whether a
/// session comes up, and when, is decided by the NATs in between and their timing, not by the
/// harness.
struct SimulatedWireGuard {
    struct Peer {
        var endpoint: PeerAddress?
        var keepalive: UInt16
        /// When the last handshake completed; nil before the first.
        var handshake: Instant?
        var initiatedAt: Instant?
        /// Since when this side has wanted a session (a configure or a restart), for the 90 s
        /// WireGuard keeps retrying.
        var wantedSince: Instant?
        var lastSent: Instant?
        /// The first data packet sent since the peer was last heard from.
        var unanswered: Instant?
        /// When the last echo of a ping came back.
        var lastEcho: Instant?
        /// What the peer's session carries, both ways (cryptokey routing).
        var allowedIPs: [IPPrefix] = []
        /// Bytes received from and sent to the peer, as `wg show transfer` counts them.
        var received: UInt64 = 0
        var sent: UInt64 = 0
    }

    enum Kind: UInt8 {
        /// `data` is a ping, answered with an `echo`; both are data, and a keepalive is not.
        case initiation = 1, response = 2, data = 3, keepalive = 4, echo = 5
    }

    /// A datagram to send from this node's WireGuard port.
    struct Packet {
        var to: PeerAddress
        var bytes: [UInt8]
    }

    let key: WireGuardKey
    private(set) var peers: [WireGuardKey: Peer] = [:]
    /// The peers in a fixed order, so that a run is the same every time.
    private var order: [WireGuardKey] = []

    init(key: WireGuardKey) { self.key = key }

    static func decode(_ bytes: [UInt8]) -> (Kind, WireGuardKey)? {
        guard bytes.count == 34, bytes[0] == 0x57, let kind = Kind(rawValue: bytes[1]),
            let key = WireGuardKey(bytes: Array(bytes[2...]))
        else { return nil }
        return (kind, key)
    }

    private func packet(_ kind: Kind, to: PeerAddress) -> Packet {
        Packet(to: to, bytes: [0x57, kind.rawValue] + key.bytes)
    }

    /// Configures the device as `desired` asks; returns the peers it added. As the kernel does,
    /// a desired peer without an endpoint keeps the one learnt from its packets, and a new peer
    /// is poked at once (smegd sends a packet to every new peer, `HandshakePoke`).
    mutating func apply(_ desired: DesiredMeshState, now: Instant) -> (added: [WireGuardKey], packets: [Packet]) {
        var added: [WireGuardKey] = []
        var packets: [Packet] = []
        let wanted = Dictionary(uniqueKeysWithValues: desired.device.peers.map { ($0.publicKey, $0) })
        peers = peers.filter { wanted[$0.key] != nil }
        for configured in desired.device.peers {
            let key = configured.publicKey
            let endpoint = configured.endpoint.flatMap(Self.address)
            let allowed = configured.allowedIPs.compactMap(IPPrefix.init)
            if var peer = peers[key] {
                if let endpoint { peer.endpoint = endpoint }
                peer.keepalive = configured.persistentKeepalive
                peer.allowedIPs = allowed
                peers[key] = peer
                continue
            }
            added.append(key)
            var peer = Peer(endpoint: endpoint, keepalive: configured.persistentKeepalive, wantedSince: now)
            peer.allowedIPs = allowed
            peers[key] = peer
            packets += initiate(key, now: now)
        }
        order = desired.device.peers.map(\.publicKey)
        return (added, packets)
    }

    /// smegd's restart of a handshake (`MeshInterface.restartHandshake`): the peer is removed
    /// and added again with its endpoint, so its session is gone, and a handshake starts at
    /// once; refused when a handshake completed after `since` (wall seconds; nil: ever).
    /// `wallBase`: the wall clock, in seconds, at the harness's zero.
    mutating func restart(
        _ key: WireGuardKey, unlessAfter since: Double?, wallBase: Double, now: Instant
    ) -> (restarted: Bool, packets: [Packet]) {
        guard let peer = peers[key],
            !MeshNode.handshake(peer.handshake.map { wallBase + Double($0.nanoseconds) / 1e9 }, isAfter: since)
        else { return (false, []) }
        var fresh = Peer(endpoint: peer.endpoint, keepalive: peer.keepalive, wantedSince: now, lastEcho: peer.lastEcho)
        fresh.allowedIPs = peer.allowedIPs
        peers[key] = fresh
        restarts += 1
        return (true, initiate(key, now: now))
    }

    /// Handshakes smegd restarted on this device.
    private(set) var restarts = 0

    private mutating func initiate(_ key: WireGuardKey, now: Instant) -> [Packet] {
        guard let endpoint = peers[key]?.endpoint else { return [] }
        peers[key]!.initiatedAt = now
        peers[key]!.lastSent = now
        peers[key]!.sent &+= Self.initiationBytes
        return [packet(.initiation, to: endpoint)]
    }

    /// WireGuard's message sizes: what the transfer counters add per packet.
    static let initiationBytes: UInt64 = 148
    static let responseBytes: UInt64 = 92
    static let keepaliveBytes: UInt64 = 32

    static func size(of kind: Kind) -> UInt64 {
        switch kind {
        case .initiation: return initiationBytes
        case .response: return responseBytes
        case .data, .echo, .keepalive: return keepaliveBytes
        }
    }

    // MARK: Cryptokey routing

    /// The peer whose AllowedIPs hold `address` most specifically: where the kernel sends it.
    func route(to address: IPAddress) -> WireGuardKey? {
        var best: (key: WireGuardKey, length: Int)?
        for key in order {
            guard let peer = peers[key] else { continue }
            for prefix in peer.allowedIPs where prefix.contains(address) && prefix.length > (best?.length ?? -1) {
                best = (key, prefix.length)
            }
        }
        return best?.key
    }

    /// Whether a packet from `source` may arrive on the session with `key`: its source must
    /// route back to that peer.
    func accepts(_ source: IPAddress, from key: WireGuardKey) -> Bool { route(to: source) == key }

    /// A data packet of `bytes` payload went to or came from `key` over the overlay.
    mutating func count(sent bytes: Int, to key: WireGuardKey, now: Instant) {
        peers[key]?.sent &+= UInt64(bytes) + Self.keepaliveBytes
        peers[key]?.lastSent = now
    }

    mutating func count(received bytes: Int, from key: WireGuardKey) {
        peers[key]?.received &+= UInt64(bytes) + Self.keepaliveBytes
    }

    mutating func receive(_ bytes: [UInt8], from source: PeerAddress, now: Instant) -> [Packet] {
        guard let (kind, sender) = Self.decode(bytes), let peer = peers[sender] else { return [] }
        // Data for a session this side does not hold cannot be decrypted: no roaming on it.
        if [.keepalive, .data, .echo].contains(kind) && peer.handshake == nil { return [] }
        peers[sender]!.endpoint = source
        peers[sender]!.unanswered = nil
        peers[sender]!.received &+= Self.size(of: kind)
        switch kind {
        case .initiation:
            peers[sender]!.handshake = now
            peers[sender]!.lastSent = now
            peers[sender]!.sent &+= Self.responseBytes
            return [packet(.response, to: source)]
        case .response:
            guard peers[sender]!.initiatedAt != nil else { return [] }
            peers[sender]!.handshake = now
            return []
        case .data:
            peers[sender]!.lastSent = now
            return [packet(.echo, to: source)]
        case .echo:
            peers[sender]!.lastEcho = now
            return []
        case .keepalive:
            return []
        }
    }

    /// A ping to `key`: sent if a session is up (and counted as data waiting for an answer),
    /// else a handshake is started first, as WireGuard does for a queued packet.
    mutating func ping(_ key: WireGuardKey, now: Instant) -> [Packet] {
        guard let peer = peers[key], let endpoint = peer.endpoint else { return [] }
        guard peer.handshake != nil else {
            if peer.wantedSince == nil || now.since(peer.initiatedAt ?? .zero) >= .seconds(5) {
                peers[key]!.wantedSince = now
                return initiate(key, now: now)
            }
            return []
        }
        peers[key]!.lastSent = now
        if peer.unanswered == nil { peers[key]!.unanswered = now }
        return [packet(.data, to: endpoint)]
    }

    /// When the last echo from `key` arrived.
    func lastEcho(from key: WireGuardKey) -> Instant? { peers[key]?.lastEcho }

    /// Retries and keepalives due at `now`.
    mutating func tick(now: Instant) -> [Packet] {
        var packets: [Packet] = []
        for key in order {
            guard let peer = peers[key] else { continue }
            if peer.handshake == nil, let since = peer.wantedSince, now.since(since) < .seconds(90),
                let last = peer.initiatedAt, now.since(last) >= .seconds(5)
            {
                packets += initiate(key, now: now)
            } else if peer.handshake != nil, let sent = peer.unanswered, now.since(sent) >= .seconds(15),
                now.since(peer.initiatedAt ?? .zero) >= .seconds(5)
            {
                // Sent, and nothing came back: the session may be gone on the other side.
                peers[key]!.wantedSince = now
                packets += initiate(key, now: now)
            } else if let handshake = peer.handshake, peer.keepalive > 0, now.since(handshake) >= .seconds(120),
                now.since(peer.initiatedAt ?? .zero) >= .seconds(5)
            {
                // A session in use is renewed every two minutes (REKEY_AFTER_TIME); a keepalive
                // keeps it in use.
                packets += initiate(key, now: now)
            } else if peer.handshake != nil, peer.keepalive > 0, let endpoint = peer.endpoint,
                now.since(peer.lastSent ?? .zero) >= .seconds(Int64(peer.keepalive))
            {
                peers[key]!.lastSent = now
                peers[key]!.sent &+= Self.keepaliveBytes
                packets.append(packet(.keepalive, to: endpoint))
            }
        }
        return packets
    }

    /// The device's peers as `wg show` would report them (handshake times in wall seconds,
    /// `wallBase` at the harness's zero).
    func observed(wallBase: Double) -> [WireGuardKey: MeshNode.KernelPeer] {
        peers.mapValues { peer in
            MeshNode.KernelPeer(
                lastHandshake: peer.handshake.map { wallBase + Double($0.nanoseconds) / 1e9 },
                endpoint: peer.endpoint.flatMap { WireGuardEndpoint("\($0)") }, receivedBytes: peer.received,
                sentBytes: peer.sent)
        }
    }

    /// Whether a handshake with `key` has completed.
    func isUp(_ key: WireGuardKey) -> Bool { peers[key]?.handshake != nil }

    static func address(_ endpoint: WireGuardEndpoint) -> PeerAddress? {
        guard let text = Endpoint(endpoint.description), case .ipv4(let ip) = text.host else { return nil }
        return PeerAddress(ip: .v4(ip), port: endpoint.port)
    }
}

extension IPPrefix {
    /// The kernel's form of a prefix in the core's.
    init?(_ net: IPNet) {
        let address: IPAddress
        if net.address.count == 4, let v4 = IPv4Address(bytes: net.address) {
            address = .v4(v4)
        } else if let v6 = IPv6Address(bytes: net.address) {
            address = .v6(v6)
        } else {
            return nil
        }
        self.init(address: address, length: Int(net.prefixLength))
    }
}
