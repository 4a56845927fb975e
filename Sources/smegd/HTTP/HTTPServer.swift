import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// A complete HTTP request as the server hands it over: the body is already bounded.
struct HTTPRequest: Sendable {
    var method: String
    var path: String
    var body: [UInt8]
}

struct HTTPReply: Sendable, Equatable {
    var status: Int
    var body: [UInt8]
    var contentType = "application/json"
}

/// A small HTTP/1.1 server for the control socket and the metrics port.
///
/// Every connection is bounded: request bodies above `maximumBody` get 413, a request must
/// arrive whole within `requestTimeout` (else 408), a connection idle for `idleTimeout` is
/// closed, at most `maximumConnections` are served at once (others get 503), and a handler
/// error never reaches the listener.
struct HTTPServer: Sendable {
    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>
    /// What the listener yields per accepted socket; a refused one has already been answered.
    enum Accepted: Sendable {
        case serve(Connection)
        case refused
    }
    typealias Listener = NIOAsyncChannel<Accepted, Never>

    static let defaultMaximumConnections = 64
    static let defaultRequestTimeout = TimeAmount.seconds(10)

    let maximumBody: Int
    let logger: Logger
    let idleTimeout: TimeAmount
    let requestTimeout: TimeAmount
    let handler: @Sendable (HTTPRequest) async -> HTTPReply
    private let connections: ConnectionCounter

    init(
        maximumBody: Int, maximumConnections: Int = defaultMaximumConnections,
        requestTimeout: TimeAmount = defaultRequestTimeout, idleTimeout: TimeAmount = .seconds(30), logger: Logger,
        handler: @escaping @Sendable (HTTPRequest) async -> HTTPReply
    ) {
        self.maximumBody = maximumBody
        self.connections = ConnectionCounter(limit: maximumConnections)
        self.requestTimeout = requestTimeout
        self.idleTimeout = idleTimeout
        self.logger = logger
        self.handler = handler
    }

    func bind(unixSocket path: String, on group: any EventLoopGroup) async throws -> Listener {
        try await ServerBootstrap(group: group)
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: false) { channel in
                configure(channel)
            }
    }

    func bind(host: String, port: Int, on group: any EventLoopGroup) async throws -> Listener {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port) { channel in
                configure(channel)
            }
    }

    /// Runs on the new connection's event loop as it is accepted, before it reads anything.
    private func configure(_ channel: any Channel) -> EventLoopFuture<Accepted> {
        channel.eventLoop.makeCompletedFuture {
            let pipeline = channel.pipeline.syncOperations
            if case .refused(let firstOfBurst) = connections.admit() {
                if firstOfBurst {
                    logger.warning("refusing connections: \(connections.limit) are open, the most served at once")
                }
                let reply = RawErrorReply.bytes(
                    status: .serviceUnavailable,
                    message: "too many connections (\(connections.limit) open); try again in a moment")
                try pipeline.addHandler(RefuseConnection(reply: reply))
                return .refused
            }
            channel.closeFuture.whenComplete { [connections] _ in connections.release() }
            let deadline = RequestDeadline(limit: requestTimeout)
            try pipeline.addHandler(deadline)
            try pipeline.addHandler(IdleStateHandler(readTimeout: idleTimeout))
            try pipeline.addHandler(IdleCloser())
            try pipeline.configureHTTPServerPipeline(withErrorHandling: true)
            try pipeline.addHandler(RequestProgress(deadline: deadline))
            return .serve(try Connection(wrappingChannelSynchronously: channel))
        }
    }

    /// Accepts connections until the listener is closed or the task is cancelled.
    func serve(_ listener: Listener) async throws {
        try await withThrowingDiscardingTaskGroup { tasks in
            try await listener.executeThenClose { inbound in
                for try await accepted in inbound {
                    guard case .serve(let connection) = accepted else { continue }
                    tasks.addTask { await handle(connection) }
                }
            }
        }
    }

    private func handle(_ connection: Connection) async {
        let channel = connection.channel
        do {
            try await connection.executeThenClose { inbound, _ in
                var head: HTTPRequestHead?
                var body: [UInt8] = []
                var tooLarge = false
                for try await part in inbound {
                    switch part {
                    case .head(let requestHead):
                        head = requestHead
                        body = []
                        tooLarge = false
                    case .body(var buffer):
                        if body.count + buffer.readableBytes > maximumBody {
                            tooLarge = true
                            body = []
                        } else if !tooLarge {
                            body += buffer.readBytes(length: buffer.readableBytes) ?? []
                        }
                    case .end:
                        guard let requestHead = head else { continue }
                        let reply: HTTPReply
                        if tooLarge {
                            reply = HTTPReply(
                                status: 413,
                                body: Array(#"{"error":"request body larger than \#(maximumBody) bytes"}"#.utf8))
                        } else {
                            let method = requestHead.method.rawValue
                            reply = await handler(HTTPRequest(method: method, path: requestHead.uri, body: body))
                            logger.debug("http \(method) \(requestHead.uri) -> \(reply.status)")
                        }
                        let keepAlive = requestHead.isKeepAlive && !tooLarge
                        try await write(reply, to: channel, version: requestHead.version, keepAlive: keepAlive)
                        if !keepAlive { return }
                        head = nil
                    }
                }
            }
        } catch {
            logger.debug("http connection ended: \(error)")
        }
    }

    /// Writes the response on the channel itself and returns once the socket has taken all of
    /// it. The async channel's writer returns as soon as it has queued the parts, and closing
    /// the connection then drops what the socket has not taken yet (a large answer to a
    /// `Connection: close` request was cut at the socket buffer's size); waiting for the last
    /// write also paces the answers to a client that pipelines requests.
    private func write(
        _ reply: HTTPReply, to channel: any Channel, version: HTTPVersion, keepAlive: Bool
    ) async throws {
        var headers = HTTPHeaders()
        if !reply.body.isEmpty { headers.add(name: "Content-Type", value: reply.contentType) }
        headers.add(name: "Content-Length", value: "\(reply.body.count)")
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        let status = HTTPResponseStatus(statusCode: reply.status)
        let head = HTTPResponseHead(version: version, status: status, headers: headers)
        channel.write(HTTPServerResponsePart.head(head), promise: nil)
        if !reply.body.isEmpty {
            channel.write(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: reply.body))), promise: nil)
        }
        try await channel.writeAndFlush(HTTPServerResponsePart.end(nil)).get()
    }
}

/// Closes a connection when `IdleStateHandler` reports that it stopped sending.
private final class IdleCloser: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}
