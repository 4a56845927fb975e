import Foundation
import Logging
import MeshCore
import NIOCore
import NIOHTTP1
import NIOPosix

/// Serves the control API (HTTP/1.1 + JSON) on a Unix socket.
///
/// Every connection is bounded: request bodies above `ControlAPI.maximumRequestBody` get 413,
/// a connection idle for `idleTimeout` is closed, and a handler error never reaches the listener.
struct ControlServer: Sendable {
    let path: String
    let group: String?
    let router: ControlRouter
    let logger: Logger
    var idleTimeout: TimeAmount = .seconds(30)

    /// Binds the socket: refuses if another daemon answers on it, removes a stale file, and
    /// gives the socket mode 0660 (set through umask so there is no window with a wider mode).
    func bind(
        on eventLoopGroup: any EventLoopGroup
    ) async throws -> NIOAsyncChannel<
        NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never
    > {
        try SocketPreparation.prepare(path: path)
        let previous = umask(0o117)
        defer { umask(previous) }
        let channel = try await ServerBootstrap(group: eventLoopGroup)
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: false) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: idleTimeout))
                    try channel.pipeline.syncOperations.addHandler(IdleCloser())
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(
                        wrappingChannelSynchronously: channel)
                }
            }
        try SocketPreparation.finish(path: path, group: group)
        return channel
    }

    /// Accepts connections until the listener is closed or the task is cancelled.
    func serve(
        _ listener: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>
    ) async throws {
        try await withThrowingDiscardingTaskGroup { tasks in
            try await listener.executeThenClose { inbound in
                for try await connection in inbound {
                    tasks.addTask { await handle(connection) }
                }
            }
        }
    }

    private func handle(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
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
                        if body.count + buffer.readableBytes > ControlAPI.maximumRequestBody {
                            tooLarge = true
                            body = []
                        } else if !tooLarge {
                            body += buffer.readBytes(length: buffer.readableBytes) ?? []
                        }
                    case .end:
                        guard let requestHead = head else { continue }
                        let reply: ControlReply
                        if tooLarge {
                            reply = ControlRouter.error(
                                413, "request body larger than \(ControlAPI.maximumRequestBody) bytes")
                        } else {
                            let uri = requestHead.uri
                            reply = await router.handle(
                                ControlRequest(method: requestHead.method.rawValue, path: uri, body: body))
                            logger.debug("control \(requestHead.method.rawValue) \(uri) -> \(reply.status)")
                        }
                        let keepAlive = requestHead.isKeepAlive && !tooLarge
                        try await write(reply, to: outbound, version: requestHead.version, keepAlive: keepAlive)
                        if !keepAlive { return }
                        head = nil
                    }
                }
            }
        } catch {
            logger.debug("control connection ended: \(error)")
        }
    }

    private func write(
        _ reply: ControlReply, to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>,
        version: HTTPVersion, keepAlive: Bool
    ) async throws {
        var headers = HTTPHeaders()
        if !reply.body.isEmpty { headers.add(name: "Content-Type", value: "application/json") }
        headers.add(name: "Content-Length", value: "\(reply.body.count)")
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        let status = HTTPResponseStatus(statusCode: reply.status)
        try await outbound.write(.head(HTTPResponseHead(version: version, status: status, headers: headers)))
        if !reply.body.isEmpty { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: reply.body)))) }
        try await outbound.write(.end(nil))
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

/// File-system steps around binding the control socket.
enum SocketPreparation {
    struct InUse: Error, CustomStringConvertible {
        let path: String
        var description: String {
            "another smegd is already serving \(path); stop it first or choose another socket with --socket"
        }
    }

    static func prepare(path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        guard FileManager.default.fileExists(atPath: path) else { return }
        do {
            _ = try ControlClient(socketPath: path, timeoutSeconds: 2).send(
                method: "GET", path: "/v1/status", body: nil)
            throw InUse(path: path)
        } catch ControlClientError.daemonNotRunning {
            try FileManager.default.removeItem(atPath: path)  // stale socket of a dead daemon
        } catch ControlClientError.badResponse {
            throw InUse(path: path)
        }
    }

    struct GroupProblem: Error, CustomStringConvertible {
        let description: String
    }

    static func finish(path: String, group: String?) throws {
        if let group {
            guard let entry = getgrnam(group) else {
                throw GroupProblem(description: "socketGroup '\(group)' does not exist on this system")
            }
            guard chown(path, uid_t(bitPattern: -1), entry.pointee.gr_gid) == 0 else {
                let reason = String(cString: strerror(errno))
                throw GroupProblem(description: "cannot give \(path) to group \(group): \(reason)")
            }
        }
        chmod(path, 0o660)
    }
}
