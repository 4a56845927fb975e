import Foundation
import Logging
import NIOCore
import Synchronization

/// One datagram as received.
struct Datagram: Sendable {
    var bytes: [UInt8]
    var source: SocketAddress
}

/// The daemon's single UDP gossip socket, shared by every mesh.
///
/// UDP rather than TCP: every exchange is a few small messages, so there is no connection
/// state to keep per peer, no head-of-line blocking behind a slow member and no handshake round
/// trip; lost datagrams are what the anti-entropy protocol is built to tolerate. Frames are
/// bounded by the datagram size (docs/protocol.md).
///
/// A plain socket rather than a NIO channel: NIO closes a datagram channel on send errors such
/// as ENETUNREACH, and a node that tries one unroutable bootstrap address (an IPv6 endpoint from
/// a host without IPv6) must not lose its gossip port. Sends are non-blocking `sendto` calls
/// whose failures count as lost datagrams; one thread blocks in `recvfrom`.
///
/// Inbound datagrams go into a bounded buffer: when the daemon falls behind, the newest are kept
/// and the oldest dropped, as a router would, instead of growing memory.
final class GossipTransport: Sendable {
    static let inboundBuffer = 4096
    static let maximumDatagram = 65_535

    let datagrams: AsyncStream<Datagram>
    let isIPv6: Bool
    let localPort: Int?
    private let descriptor: Int32
    private let flags = Flags()

    /// Shared with the receiver thread, which outlives no socket: closing ends its `recvfrom`.
    private final class Flags: Sendable {
        let closed = Atomic<Bool>(false)
        let sendFailures = Atomic<Int>(0)
    }

    /// Binds `host:port`; an IPv6 host ("::") makes a dual-stack socket that also serves IPv4.
    static func bind(host: String, port: Int, logger: Logger) throws -> GossipTransport {
        let address = try SocketAddress(ipAddress: host, port: port)
        let isIPv6 = address.protocol == .inet6
        let descriptor = socket(
            isIPv6 ? AF_INET6 : AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw TransportError(operation: "create the gossip socket", errno: errno) }
        var on: Int32 = 1
        var off: Int32 = 0
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        if isIPv6 {
            setsockopt(descriptor, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &off, socklen_t(MemoryLayout<Int32>.size))
        }
        var buffer: Int32 = 4 * 1024 * 1024
        setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &buffer, socklen_t(MemoryLayout<Int32>.size))
        // Gossip must reach members over the underlay even when an exit node's default route
        // takes everything else into a tunnel (see ExitRouting). Needs CAP_NET_ADMIN; without
        // it (tests as a user) there is no exit routing to escape either.
        var mark = ExitRouting.firewallMark
        setsockopt(descriptor, SOL_SOCKET, SO_MARK, &mark, socklen_t(MemoryLayout<UInt32>.size))
        let bound = address.withSockAddr { Glibc.bind(descriptor, $0, socklen_t($1)) }
        guard bound == 0 else {
            let code = errno
            Glibc.close(descriptor)
            throw TransportError(operation: "bind the gossip socket to \(host) port \(port)", errno: code)
        }
        let (stream, continuation) = AsyncStream.makeStream(
            of: Datagram.self, bufferingPolicy: .bufferingNewest(inboundBuffer))
        return GossipTransport(
            descriptor: descriptor, isIPv6: isIPv6, datagrams: stream, continuation: continuation, logger: logger)
    }

    private init(
        descriptor: Int32, isIPv6: Bool, datagrams: AsyncStream<Datagram>,
        continuation: AsyncStream<Datagram>.Continuation, logger: Logger
    ) {
        self.descriptor = descriptor
        self.isIPv6 = isIPv6
        self.datagrams = datagrams
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        self.localPort = named == 0 ? (try? SocketAddress(storage: storage))?.port : nil
        let flags = self.flags
        let receiver = Thread {
            Self.receiveLoop(descriptor: descriptor, continuation: continuation, flags: flags, logger: logger)
        }
        receiver.name = "smegd-gossip-rx"
        receiver.start()
    }

    private static func receiveLoop(
        descriptor: Int32, continuation: AsyncStream<Datagram>.Continuation, flags: Flags, logger: Logger
    ) {
        var buffer = [UInt8](repeating: 0, count: maximumDatagram)
        while !flags.closed.load(ordering: .acquiring) {
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let count = buffer.withUnsafeMutableBytes { raw in
                withUnsafeMutablePointer(to: &storage) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        recvfrom(descriptor, raw.baseAddress, raw.count, 0, $0, &length)
                    }
                }
            }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN || errno == ECONNREFUSED { continue }
                if !flags.closed.load(ordering: .acquiring) {
                    logger.error("gossip socket receive failed: \(String(cString: strerror(errno)))")
                }
                break
            }
            guard let source = try? SocketAddress(storage: storage) else { continue }
            continuation.yield(Datagram(bytes: Array(buffer[0..<count]), source: source))
        }
        continuation.finish()
    }

    /// Sends one frame without blocking; a failure (no route, full buffer) is a lost datagram.
    func send(_ bytes: [UInt8], to address: SocketAddress) {
        let sent = bytes.withUnsafeBytes { raw in
            address.withSockAddr { pointer, length in
                sendto(
                    descriptor, raw.baseAddress, raw.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL), pointer,
                    socklen_t(length))
            }
        }
        if sent < 0 { flags.sendFailures.add(1, ordering: .relaxed) }
    }

    /// Datagrams the kernel refused to send (unreachable, buffer full) since start.
    var failedSends: Int { flags.sendFailures.load(ordering: .relaxed) }

    /// Stops the receiver thread and closes the socket.
    func close() {
        guard !flags.closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        shutdown(descriptor, Int32(SHUT_RDWR))
        Glibc.close(descriptor)
    }
}

struct TransportError: Error, CustomStringConvertible {
    var operation: String
    var errno: Int32
    var description: String { "\(operation): \(String(cString: strerror(errno)))" }
}

extension SocketAddress {
    /// Reads an IPv4 or IPv6 address out of a `sockaddr_storage` filled by the kernel.
    init(storage: sockaddr_storage) throws {
        var copy = storage
        switch Int32(storage.ss_family) {
        case AF_INET:
            let address = withUnsafePointer(to: &copy) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee }
            }
            self = SocketAddress(address, host: "")
        case AF_INET6:
            let address = withUnsafePointer(to: &copy) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee }
            }
            self = SocketAddress(address, host: "")
        default:
            throw TransportError(operation: "read a datagram's source address", errno: EAFNOSUPPORT)
        }
    }
}
