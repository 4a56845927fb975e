import Logging
import NIOCore
import NIOPosix

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
/// Inbound datagrams go into a bounded buffer: when the daemon falls behind, the newest
/// datagrams are kept and the oldest dropped, as a router would, instead of growing memory.
final class GossipTransport: Sendable {
    static let inboundBuffer = 4096

    let channel: any Channel
    let datagrams: AsyncStream<Datagram>
    private let logger: Logger

    private init(channel: any Channel, datagrams: AsyncStream<Datagram>, logger: Logger) {
        self.channel = channel
        self.datagrams = datagrams
        self.logger = logger
    }

    /// Binds `host:port` (":" hosts are IPv6 and dual stack) on the given event loop group.
    static func bind(host: String, port: Int, group: any EventLoopGroup, logger: Logger) async throws -> GossipTransport
    {
        let (stream, continuation) = AsyncStream.makeStream(
            of: Datagram.self, bufferingPolicy: .bufferingNewest(inboundBuffer))
        let channel = try await DatagramBootstrap(group: group)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.maxMessagesPerRead, value: 16)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65_536))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(InboundDatagrams(continuation: continuation))
                }
            }
            .bind(host: host, port: port)
            .get()
        channel.closeFuture.whenComplete { _ in continuation.finish() }
        return GossipTransport(channel: channel, datagrams: stream, logger: logger)
    }

    var localPort: Int? { channel.localAddress?.port }

    /// Sends one frame; failures (no route, buffer full) are logged at debug and dropped, as a
    /// lost datagram would be.
    func send(_ bytes: [UInt8], to address: SocketAddress) {
        let envelope = AddressedEnvelope(remoteAddress: address, data: channel.allocator.buffer(bytes: bytes))
        let logger = self.logger
        channel.writeAndFlush(envelope).whenFailure { error in
            logger.debug("gossip send to \(address) failed: \(error)")
        }
    }

    func close() async {
        try? await channel.close()
    }
}

/// Moves datagrams from the event loop into the async stream.
private final class InboundDatagrams: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    let continuation: AsyncStream<Datagram>.Continuation

    init(continuation: AsyncStream<Datagram>.Continuation) {
        self.continuation = continuation
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var envelope = unwrapInboundIn(data)
        let bytes = envelope.data.readBytes(length: envelope.data.readableBytes) ?? []
        continuation.yield(Datagram(bytes: bytes, source: envelope.remoteAddress))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP errors for one destination (port unreachable) must not close the shared socket.
    }
}
