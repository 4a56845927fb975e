import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Why a control request failed, phrased for the person at the terminal.
public enum ControlClientError: Error, CustomStringConvertible, Equatable {
    case daemonNotRunning(socket: String)
    case permissionDenied(socket: String)
    case socketPathTooLong(socket: String)
    case transport(String)
    case badResponse(String)
    /// The daemon answered with an error status and message.
    case api(status: Int, message: String)

    public var description: String {
        switch self {
        case .daemonNotRunning(let socket):
            return "cannot reach smegd at \(socket): is it running? Start it with `systemctl start smegd` "
                + "or `smegd &`, or point to another socket with --socket"
        case .permissionDenied(let socket):
            return "permission denied on \(socket): run as root or as a member of the socket's group"
        case .socketPathTooLong(let socket):
            return "socket path is too long for a Unix socket: \(socket)"
        case .transport(let detail):
            return "control socket error: \(detail)"
        case .badResponse(let detail):
            return "unexpected answer from smegd: \(detail)"
        case .api(_, let message):
            return message
        }
    }
}

/// A response as read off the wire.
public struct ControlResponse: Sendable, Equatable {
    public var status: Int
    public var body: [UInt8]

    /// Returns self for 2xx; otherwise throws `.api` with the daemon's error message.
    public func requireSuccess() throws -> ControlResponse {
        guard (200..<300).contains(status) else {
            let message =
                (try? JSONDecoder().decode(APIErrorBody.self, from: Data(body)))?.error
                ?? "smegd answered HTTP \(status)"
            throw ControlClientError.api(status: status, message: message)
        }
        return self
    }
}

/// Percent-encodes one path segment, so a mesh or service name can never add a path level.
public enum PathSegment {
    public static func escape(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: "~"):
                out.append(Character(UnicodeScalar(byte)))
            default:
                out +=
                    "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 15, radix: 16, uppercase: true)
            }
        }
        return out
    }

    /// Decodes a percent-encoded segment; nil for malformed escapes or invalid UTF-8.
    public static func unescape(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next(), let low = iterator.next(),
                let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
            else { return nil }
            bytes.append(value)
        }
        return String(validating: bytes, as: UTF8.self)
    }
}

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

/// Parses a complete `Connection: close` HTTP/1.1 response (status line, headers, body).
enum HTTPResponseParser {
    static func parse(_ raw: [UInt8]) throws -> ControlResponse {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let headerEnd = raw.firstRange(of: separator) else {
            throw ControlClientError.badResponse("no complete HTTP header (\(raw.count) bytes)")
        }
        let head = String(decoding: raw[..<headerEnd.lowerBound], as: UTF8.self)
        let lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusParts = lines.first?.split(separator: " ") ?? []
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."), let status = Int(statusParts[1]),
            (100...599).contains(status)
        else {
            throw ControlClientError.badResponse("bad status line")
        }
        var body = Array(raw[headerEnd.upperBound...])
        for line in lines.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "content-length" {
                guard let length = Int(parts[1].trimmingCharacters(in: .whitespaces)), length <= body.count else {
                    throw ControlClientError.badResponse("truncated body")
                }
                body = Array(body.prefix(length))
            }
        }
        return ControlResponse(status: status, body: body)
    }
}
