#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
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

/// Parses a complete `Connection: close` HTTP/1.1 response (status line, headers, body).
public enum HTTPResponseParser {
    public static func parse(_ raw: [UInt8]) throws -> ControlResponse {
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
                guard let length = Int(parts[1].trimmingWhitespace()), length <= body.count else {
                    throw ControlClientError.badResponse("truncated body")
                }
                body = Array(body.prefix(length))
            }
        }
        return ControlResponse(status: status, body: body)
    }
}
