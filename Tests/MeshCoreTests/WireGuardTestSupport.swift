import MeshCore

/// Deterministic keys and prefixes for WireGuard tests: key `n` is 32 bytes of value `n`.
enum WireGuardFixtures {
    static func key(_ n: UInt8) -> WireGuardKey {
        WireGuardKey(bytes: [UInt8](repeating: n, count: 32))!
    }

    static func net(_ text: String) -> IPNet {
        IPNet(text)!
    }

    static func endpoint(_ text: String) -> WireGuardEndpoint {
        WireGuardEndpoint(text)!
    }

    static func peer(
        _ n: UInt8, endpoint: String? = nil, allowed: [String] = [], keepalive: UInt16 = 0
    )
        -> WireGuardPeer
    {
        WireGuardPeer(
            publicKey: key(n), endpoint: endpoint.map { WireGuardEndpoint($0)! },
            allowedIPs: allowed.map { IPNet($0)! },
            persistentKeepalive: keepalive)
    }
}
