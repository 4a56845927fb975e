import MeshAPI

#if canImport(Glibc)
    import Glibc
#endif

/// A small blocking HTTP/1.1 client for the daemon's Unix socket.
///
/// The CLI makes one request per run, so a blocking socket with a deadline is simpler and starts
/// faster than an event loop; each request uses `Connection: close` and reads to end of stream.
public struct ControlClient: Sendable {
    public var socketPath: String
    public var timeoutSeconds: Int

    public init(socketPath: String, timeoutSeconds: Int = 30) {
        self.socketPath = socketPath
        self.timeoutSeconds = timeoutSeconds
    }

    /// Makes one call and reads its 2xx answer; other statuses become `.api`.
    public func call<Response>(_ call: ControlCall<Response>) throws -> Response {
        let response = try send(method: call.route.method, path: call.route.path, body: call.body).requireSuccess()
        return try call.decode(response.body)
    }

    /// Sends one raw request and returns the status and body.
    public func send(method: String, path: String, body: [UInt8]?) throws -> ControlResponse {
        let descriptor = try connect()
        defer { close(descriptor) }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: smegd\r\nConnection: close\r\n"
        if let body {
            head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n"
        }
        head += "\r\n"
        try writeAll(descriptor, Array(head.utf8) + (body ?? []))
        let raw = try readAll(descriptor)
        return try HTTPResponseParser.parse(raw)
    }

    private func connect() throws -> Int32 {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw ControlClientError.transport(String(cString: strerror(errno))) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(socketPath.utf8)
        guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(descriptor)
            throw ControlClientError.socketPathTooLong(socket: socketPath)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if result != 0 {
            let code = errno
            close(descriptor)
            switch code {
            case ENOENT, ECONNREFUSED, ENOTDIR: throw ControlClientError.daemonNotRunning(socket: socketPath)
            case EACCES, EPERM: throw ControlClientError.permissionDenied(socket: socketPath)
            default: throw ControlClientError.transport("connect \(socketPath): \(String(cString: strerror(code)))")
            }
        }
        return descriptor
    }

    private func writeAll(_ descriptor: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes {
                Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw ControlClientError.transport("write: \(String(cString: strerror(errno)))")
            }
            offset += written
        }
    }

    private func readAll(_ descriptor: Int32) throws -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count == 0 { return result }
            if count < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN {
                    throw ControlClientError.transport("smegd did not answer within \(timeoutSeconds) s")
                }
                throw ControlClientError.transport("read: \(String(cString: strerror(errno)))")
            }
            result += chunk[0..<count]
            guard result.count <= ControlAPI.maximumResponseBody + 65536 else {
                throw ControlClientError.badResponse("response larger than \(ControlAPI.maximumResponseBody) bytes")
            }
        }
    }
}
