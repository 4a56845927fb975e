import MeshCore

#if canImport(Glibc)
    import Glibc
#endif

/// Starts WireGuard handshakes with newly added peers at once.
///
/// Two nodes add each other a moment apart. A handshake initiation from the first reaches the
/// second before it knows the first and is dropped, and WireGuard retries only after its 5 s
/// rekey timeout: new members would wait seconds for their first packet. So whenever peers are
/// added, one empty UDP datagram goes to each new peer's overlay address (discard port 9): the
/// tunnel has to handshake to carry it, and since both sides do this, the later side's
/// initiation always finds a peer that already knows it.
enum HandshakePoke {
    static let discardPort: UInt16 = 9

    static func send(to prefixes: [IPNet]) {
        guard !prefixes.isEmpty else { return }
        let descriptor = socket(AF_INET6, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        for prefix in prefixes where prefix.address.count == 16 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = discardPort.bigEndian
            withUnsafeMutableBytes(of: &address.sin6_addr) { $0.copyBytes(from: prefix.address) }
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(descriptor, nil, 0, Int32(MSG_DONTWAIT), $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        }
    }
}
