/// A UDP source or destination as the frame session sees it: an IP address and a port.
///
/// The session remembers which addresses a member has proved it receives at, so it needs an
/// address type that compares reliably without depending on the daemon's socket library. An
/// IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, what a dual-stack socket reports for IPv4
/// senders) is stored as the IPv4 address, so one peer reached over either socket family is one
/// address and a validation earned over one is not lost on the other.
public struct PeerAddress: Hashable, Sendable, CustomStringConvertible {
    public let ip: IPAddress
    public let port: UInt16

    public init(ip: IPAddress, port: UInt16) {
        if case .v6(let v6) = ip, v6.high == 0, v6.low >> 32 == 0xFFFF {
            self.ip = .v4(IPv4Address(UInt32(truncatingIfNeeded: v6.low)))
        } else {
            self.ip = ip
        }
        self.port = port
    }

    public var description: String {
        switch ip {
        case .v4(let v4): return "\(v4):\(port)"
        case .v6(let v6): return "[\(v6)]:\(port)"
        }
    }
}
