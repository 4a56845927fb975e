import MeshCore
import NIOCore

/// Turns mesh endpoints into socket addresses for the gossip socket.
enum GossipAddressing {
    /// On a dual-stack IPv6 socket IPv4 destinations must be written as IPv4-mapped IPv6
    /// addresses (`::ffff:192.0.2.1`); the kernel rejects a plain IPv4 sockaddr there.
    static func socketAddress(_ host: Endpoint.Host, port: UInt16, dualStack: Bool) -> SocketAddress? {
        switch host {
        case .ipv4(let address):
            let text = dualStack ? "::ffff:\(address)" : "\(address)"
            return try? SocketAddress(ipAddress: text, port: Int(port))
        case .ipv6(let address):
            return try? SocketAddress(ipAddress: "\(address)", port: Int(port))
        case .name(let name):
            guard let resolved = try? SocketAddress.makeAddressResolvingHost(name, port: Int(port)) else { return nil }
            if case .v4 = resolved, dualStack, let ip = resolved.ipAddress {
                return try? SocketAddress(ipAddress: "::ffff:\(ip)", port: Int(port))
            }
            return resolved
        }
    }

    /// `address` written for a socket of the given family: an IPv4-mapped IPv6 address becomes
    /// plain IPv4 for an IPv4 socket, and IPv4 becomes mapped for a dual-stack IPv6 socket; nil
    /// when the socket cannot reach it at all (real IPv6 from an IPv4 socket). The kernel refuses
    /// a sockaddr of the other family, and a datagram refused that way is lost without a word:
    /// addresses restored from disk as mapped IPv6 once cut every member of a daemon bound to
    /// an IPv4 address off from all but those it heard from first.
    static func matching(_ address: SocketAddress, ipv6Socket: Bool) -> SocketAddress? {
        guard let ip = address.ipAddress, let port = address.port else { return nil }
        switch address {
        case .v4 where ipv6Socket:
            return try? SocketAddress(ipAddress: "::ffff:\(ip)", port: port)
        case .v6 where !ipv6Socket:
            let lowered = ip.lowercased()
            guard lowered.hasPrefix("::ffff:"), !lowered.dropFirst(7).contains(":") else { return nil }
            return try? SocketAddress(ipAddress: String(ip.dropFirst(7)), port: port)
        case .v4, .v6:
            return address
        case .unixDomainSocket:
            return nil
        }
    }

    /// The session's form of a datagram's source; nil for a source that is not IP.
    /// The bootstrap endpoints of a token ("HOST:PORT", names resolved here) as peers; the
    /// ones that do not resolve are left out.
    static func peers(resolving endpoints: [String], dualStack: Bool) -> [PeerAddress] {
        endpoints.compactMap { text in
            guard let endpoint = Endpoint(text),
                let address = socketAddress(endpoint.host, port: endpoint.port, dualStack: dualStack)
            else { return nil }
            return peer(address)
        }
    }

    static func peer(_ address: SocketAddress) -> PeerAddress? {
        guard let text = address.ipAddress, let port = address.port, let ip = IPAddress(text),
            let port16 = UInt16(exactly: port)
        else { return nil }
        return PeerAddress(ip: ip, port: port16)
    }

    /// The socket address of `peer`, in the peer's own family: `GossipTransport.send` writes it
    /// for its socket's family (`matching`).
    static func socketAddress(_ peer: PeerAddress) -> SocketAddress? {
        let text: String
        switch peer.ip {
        case .v4(let v4): text = "\(v4)"
        case .v6(let v6): text = "\(v6)"
        }
        return try? SocketAddress(ipAddress: text, port: Int(peer.port))
    }
}
