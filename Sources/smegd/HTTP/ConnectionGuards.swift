import NIOCore
import NIOHTTP1
import Synchronization

/// Open connections of one listener, so a client opening connections in a loop cannot use up
/// the daemon's file descriptors and memory: at most `limit` are served at once.
final class ConnectionCounter: Sendable {
    let limit: Int
    private let state = Mutex((open: 0, refusing: false))

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    enum Admission: Equatable {
        case accepted
        /// `firstOfBurst` is true for the first refusal since the last accepted connection, so a
        /// flood is logged once rather than once per connection.
        case refused(firstOfBurst: Bool)
    }

    func admit() -> Admission {
        state.withLock { state in
            guard state.open < limit else {
                defer { state.refusing = true }
                return .refused(firstOfBurst: !state.refusing)
            }
            state.open += 1
            state.refusing = false
            return .accepted
        }
    }

    func release() {
        state.withLock { $0.open = max(0, $0.open - 1) }
    }

    var open: Int { state.withLock { $0.open } }
}

/// A complete HTTP/1.1 response with a JSON error, as bytes for the socket itself.
///
/// Written at the very front of the pipeline, below the HTTP codec, and only when no response
/// is under way (instead of serving a connection, or before a request has arrived): so it can
/// neither interleave with a response nor upset the codec's state, and the connection is
/// closed right after it.
enum RawErrorReply {
    static func bytes(status: HTTPResponseStatus, message: String) -> ByteBuffer {
        var body = ByteBuffer()
        body.writeString(#"{"error":""#)
        body.writeString(jsonEscaped(message))
        body.writeString("\"}\n")
        var out = ByteBuffer()
        out.writeString("HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\n")
        out.writeString("Content-Type: application/json\r\nContent-Length: \(body.readableBytes)\r\n")
        out.writeString("Connection: close\r\n\r\n")
        out.writeBuffer(&body)
        return out
    }

    /// A JSON string's inside: quotes, backslashes and control characters escaped, so that a
    /// message with a line break still makes a valid answer.
    static func jsonEscaped(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

/// The whole pipeline of a connection beyond the limit: one 503, then close. Whatever the
/// client sends is dropped unread.
final class RefuseConnection: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let reply: ByteBuffer
    private var sent = false

    init(reply: ByteBuffer) {
        self.reply = reply
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { send(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        send(context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    private func send(_ context: ChannelHandlerContext) {
        guard !sent else { return }
        sent = true
        let channel = context.channel
        context.writeAndFlush(Self.wrapOutboundOut(reply)).whenComplete { _ in channel.close(promise: nil) }
    }
}

/// Gives a client `limit` to deliver a whole request, counted from the moment the connection
/// is accepted or the previous response was written, then answers 408 and closes.
///
/// The idle timer alone restarts with every byte, so a client sending one byte at a time
/// would hold a connection, and one of the limited slots, forever. This handler sits first
/// in the pipeline (its 408 goes straight to the socket); `RequestProgress`, behind the HTTP
/// codec, tells it when a request is complete and when the socket has taken the whole response.
/// While any complete request is still being answered no deadline runs: the answer may take
/// as long as it takes, and the 408 can never land in the middle of a response.
/// A kept-alive connection on which nothing of a next request arrived in time is closed
/// without the 408, which a client could mistake for the answer to a request it sends just then.
final class RequestDeadline: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let limit: TimeAmount
    private var context: ChannelHandlerContext?
    private var timer: Scheduled<Void>?
    private var answered = false
    private var heardSinceArmed = false
    /// Complete requests whose responses have not been written out yet (more than one when
    /// the client pipelines).
    private var unanswered = 0

    init(limit: TimeAmount) {
        self.limit = limit
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { arm() }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        disarm()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        arm()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        heardSinceArmed = true
        context.fireChannelRead(data)
    }

    func requestCompleted() {
        unanswered += 1
        disarm()
    }

    func responseWritten() {
        answered = true
        unanswered = max(0, unanswered - 1)
        arm()
    }

    private func arm() {
        guard timer == nil, unanswered == 0, let context else { return }
        heardSinceArmed = false
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: limit) { [self] in expire() }
    }

    private func disarm() {
        timer?.cancel()
        timer = nil
    }

    private func expire() {
        timer = nil
        guard let context, context.channel.isActive else { return }
        guard heardSinceArmed || !answered else {
            context.close(promise: nil)
            return
        }
        let reply = RawErrorReply.bytes(
            status: .requestTimeout, message: "the request did not arrive within \(limit.nanoseconds / 1_000_000) ms")
        let channel = context.channel
        context.writeAndFlush(Self.wrapOutboundOut(reply)).whenComplete { _ in channel.close(promise: nil) }
    }
}

/// Behind the HTTP codec: tells `RequestDeadline` when a request has fully arrived and when
/// the response to it has been written to the socket (not merely queued: a slow reader of a
/// large response must not have the connection closed under it).
final class RequestProgress: ChannelDuplexHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let deadline: RequestDeadline

    init(deadline: RequestDeadline) {
        self.deadline = deadline
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .end = Self.unwrapInboundIn(data) { deadline.requestCompleted() }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = Self.unwrapOutboundIn(data) else {
            context.write(data, promise: promise)
            return
        }
        let written = promise ?? context.eventLoop.makePromise()
        written.futureResult.assumeIsolated().whenComplete { [deadline] _ in deadline.responseWritten() }
        context.write(data, promise: written)
    }
}
