#if canImport(Glibc)
    import Glibc
#endif

/// One IPv4 UDP socket on loopback, with just what the attacks need: send a datagram, and collect
/// whatever comes back within a time limit. Plain sockets rather than SwiftNIO, so that the tool
/// sends exactly the bytes it is told to, one datagram per call, from an address it chooses.
final class UDPPort {
    private let fd: Int32
    private(set) var sentBytes = 0
    private(set) var sentFrames = 0
    private(set) var receivedBytes = 0
    private(set) var receivedFrames = 0

    /// Binds to `host` (any 127.0.0.0/8 address, so a frame can come from an address the daemon
    /// has never heard from) on `port`, 0 for any free one.
    init(host: String = "127.0.0.1", port: UInt16 = 0) throws {
        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw AttackFailure("socket: errno \(errno)") }
        var size: Int32 = 8 << 20
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        var address = try Self.socketAddress(host, port)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else {
            close(fd)
            throw AttackFailure("bind \(host):\(port): errno \(errno)")
        }
    }

    deinit { close(fd) }

    /// `HOST:PORT`, IPv4 only (the loopback stage never uses anything else).
    static func parse(_ text: String) throws -> sockaddr_in {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let port = UInt16(parts[1]) else { throw AttackFailure("expected HOST:PORT: \(text)") }
        return try socketAddress(String(parts[0]), port)
    }

    static func socketAddress(_ host: String, _ port: UInt16) throws -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            throw AttackFailure("not an IPv4 address: \(host)")
        }
        return address
    }

    func send(_ bytes: [UInt8], to destination: sockaddr_in) {
        var target = destination
        while true {
            let result = bytes.withUnsafeBytes { buffer in
                withUnsafePointer(to: &target) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(fd, buffer.baseAddress, buffer.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            }
            if result >= 0 {
                sentBytes += bytes.count
                sentFrames += 1
                return
            }
            // A full socket buffer on a flood: wait a moment rather than silently drop the frame.
            guard errno == ENOBUFS || errno == EAGAIN || errno == EINTR else { return }
            usleep(200)
        }
    }

    /// Every datagram that arrives until `milliseconds` pass with nothing new.
    func receiveAll(quietFor milliseconds: Int32) -> [[UInt8]] {
        var frames: [[UInt8]] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, milliseconds) > 0 else { return frames }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { continue }
            receivedBytes += count
            receivedFrames += 1
            frames.append(Array(buffer[..<count]))
        }
    }
}

struct AttackFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
