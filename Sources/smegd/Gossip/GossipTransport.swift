import Logging
import MeshCore
import MeshLinux
import NIOCore
import Synchronization

/// The daemon's single UDP gossip socket, shared by every mesh.
///
/// UDP rather than TCP: every exchange is a few small messages, so there is no connection
/// state to keep per peer, no head-of-line blocking behind a slow member and no handshake round
/// trip; lost datagrams are what the anti-entropy protocol is built to tolerate. Frames are
/// bounded by the datagram size (docs/protocol.md). `UDPSocket` says why the socket is plain.
final class GossipTransport: Sendable {
    static let inboundBuffer = 4096
    /// Twice the issuer's join burst (`MeshNode.joinFrameBurst`).
    static let joinFrameBuffer = 256
    static let maximumDatagram = 65_535

    private let socket: UDPSocket

    var datagrams: AsyncStream<Datagram> { socket.datagrams }
    /// Join frames, in a lane of their own: see `bind`.
    var joinFrames: AsyncStream<Datagram> { socket.urgentDatagrams }
    var droppedJoinFrames: Int { socket.urgentDroppedCount }
    var isIPv6: Bool { socket.isIPv6 }
    var localPort: Int? { socket.localPort }
    var receivedCount: Int { socket.receivedCount }
    var droppedCount: Int { socket.droppedCount }
    /// Datagrams the dispatcher dropped unread for waiting too long (`InputBacklog`); every mesh's
    /// leader learns of them, since any of them may have held its acknowledgements.
    var staleDrops: Int { staleDropCount.load(ordering: .relaxed) }
    func noteStaleDrop() { staleDropCount.add(1, ordering: .relaxed) }
    private let staleDropCount = Atomic<Int>(0)

    private init(socket: UDPSocket) {
        self.socket = socket
    }

    /// Binds `host:port`; an IPv6 host ("::") makes a dual-stack socket that also serves IPv4.
    static func bind(host: String, port: Int, logger: Logger) throws -> GossipTransport {
        // The mark lets gossip reach members over the underlay even when an exit node's
        // default route takes everything else into a tunnel (see ExitRouting).
        //
        // Join frames skip the queue. A fleet rolled out at once sends its join requests to
        // one issuer while gossiping with it, and when that host is behind (`InputBacklog`),
        // a request waited in line behind a second of digests and was often dropped stale, to
        // be resent a second later: the joins of a mass join were spread over seconds. Their
        // own lane also keeps a flood of forged join frames, which the issuer's join budget
        // drops cheaply, from pushing gossip out of the main queue.
        let options = UDPSocket.Options(
            dualStack: true, reuseAddress: true, receiveBufferBytes: 4 * 1024 * 1024,
            firewallMark: ExitRouting.firewallMark, maximumDatagram: maximumDatagram, inboundBuffer: inboundBuffer,
            urgent: { JoinMessage.isJoinFrame($0) }, urgentBuffer: joinFrameBuffer, threadName: "smegd-gossip-rx")
        return GossipTransport(
            socket: try UDPSocket.bind(
                host: host, port: port, options: options, purpose: "the gossip socket", logger: logger))
    }

    /// Sends one frame without blocking; a failure (no route, full buffer, an address this
    /// socket's family cannot reach) is a lost datagram, counted in `failedSends`.
    func send(_ bytes: [UInt8], to address: SocketAddress) {
        guard let matched = GossipAddressing.matching(address, ipv6Socket: socket.isIPv6) else {
            socket.countFailedSend()
            return
        }
        socket.send(bytes, to: matched)
    }

    /// Datagrams the kernel refused to send (unreachable, buffer full) since start.
    var failedSends: Int { socket.failedSends }

    var lastSendError: String { socket.lastSendError }

    /// Stops the receiver thread and closes the socket.
    func close() {
        socket.close()
    }
}
