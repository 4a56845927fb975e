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
/// Every connection is bounded: request bodies above `maximumBody` get 413, a connection idle
/// for `idleTimeout` is closed, and a handler error never reaches the listener.
struct HTTPServer: Sendable {
    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>
    typealias Listener = NIOAsyncChannel<Connection, Never>

    let maximumBody: Int
    let logger: Logger
    var idleTimeout: TimeAmount = .seconds(30)
    let handler: @Sendable (HTTPRequest) async -> HTTPReply

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

    private func configure(_ channel: any Channel) -> EventLoopFuture<Connection> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: idleTimeout))
            try channel.pipeline.syncOperations.addHandler(IdleCloser())
            try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
            return try Connection(wrappingChannelSynchronously: channel)
        }
    }

    /// Accepts connections until the listener is closed or the task is cancelled.
    func serve(_ listener: Listener) async throws {
        try await withThrowingDiscardingTaskGroup { tasks in
            try await listener.executeThenClose { inbound in
                for try await connection in inbound {
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
