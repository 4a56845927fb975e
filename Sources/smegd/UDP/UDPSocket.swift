import Glibc
import Logging
import MeshLinux
import NIOCore
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// One datagram as received.
struct Datagram: Sendable {
    var bytes: [UInt8]
    var source: SocketAddress
    /// When the receiver thread took it from the kernel: its age when handled is how far behind
    /// the daemon is.
    var receivedAt = ContinuousClock.now
}

/// A bound UDP socket: received datagrams arrive on an `AsyncStream`, sends never block.
///
/// A plain socket rather than a NIO channel: NIO closes a datagram channel on send errors such
/// as ENETUNREACH, so one unroutable destination (an IPv6 endpoint from a host without IPv6, or
/// the spoofed source of a DNS query) would cost the daemon its port. Sends are non-blocking
/// `sendto` calls whose failures count as lost datagrams; one thread blocks in `recvfrom`.
///
/// Inbound datagrams go into a bounded buffer: when the daemon falls behind, the newest are kept
/// and the oldest dropped, as a router would, instead of growing memory. Datagrams that
/// `Options.urgent` picks go into a second, smaller buffer of their own (`urgentDatagrams`), so
/// that they neither wait behind the rest nor push the rest out.
final class UDPSocket: Sendable {
    struct Options: Sendable {
        /// An IPv6 socket that also serves IPv4 (for a wildcard "::" bind).
        var dualStack = false
        /// Bind an address the host does not have yet (IP_FREEBIND / IPV6_FREEBIND), such as an
        /// overlay address before its interface is up.
        var freeBind = false
        var reuseAddress = false
        var receiveBufferBytes: Int32?
        /// SO_MARK for policy routing; needs CAP_NET_ADMIN and is skipped silently without it
        /// (as a user there is no policy routing to escape either).
        var firewallMark: UInt32?
        /// Longer datagrams are cut to this length by `recvfrom`.
        var maximumDatagram = 65_535
        var inboundBuffer = 4096
        /// Picks the datagrams for `urgentDatagrams`; nil sends every one to `datagrams`.
        var urgent: (@Sendable ([UInt8]) -> Bool)?
        var urgentBuffer = 256
        var threadName = "smegd-udp-rx"
    }

    let datagrams: AsyncStream<Datagram>
    /// The datagrams `Options.urgent` picked; finished at once when it is nil.
    let urgentDatagrams: AsyncStream<Datagram>
    let isIPv6: Bool
    let localPort: Int?
    private let descriptor: Int32
    private let flags = Flags()

    /// Shared with the receiver thread, which outlives no socket: closing ends its `recvfrom`.
    private final class Flags: Sendable {
        let closed = Atomic<Bool>(false)
        let received = Atomic<Int>(0)
        let dropped = Atomic<Int>(0)
        let urgentDropped = Atomic<Int>(0)
        let sendFailures = Atomic<Int>(0)
        let lastSendErrno = Atomic<Int32>(0)
    }

    /// Binds `host:port`; `purpose` names the socket in errors ("the DNS socket").
    static func bind(host: String, port: Int, options: Options, purpose: String, logger: Logger) throws -> UDPSocket {
        let address = try SocketAddress(ipAddress: host, port: port)
        let isIPv6 = address.protocol == .inet6
        let descriptor = socket(
            isIPv6 ? AF_INET6 : AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw TransportError(operation: "create \(purpose)", errno: errno) }
        if options.reuseAddress { setOption(descriptor, SOL_SOCKET, SO_REUSEADDR, 1) }
        if isIPv6 { setOption(descriptor, Int32(IPPROTO_IPV6), IPV6_V6ONLY, options.dualStack ? 0 : 1) }
        if options.freeBind {
            let (level, name) = isIPv6 ? (Int32(IPPROTO_IPV6), IPV6_FREEBIND) : (Int32(IPPROTO_IP), IP_FREEBIND)
            setOption(descriptor, level, name, 1)
        }
        if let bytes = options.receiveBufferBytes { setOption(descriptor, SOL_SOCKET, SO_RCVBUF, bytes) }
        if let mark = options.firewallMark { setOption(descriptor, SOL_SOCKET, SO_MARK, Int32(bitPattern: mark)) }
        let bound = address.withSockAddr { Glibc.bind(descriptor, $0, socklen_t($1)) }
        guard bound == 0 else {
            let code = errno
            Glibc.close(descriptor)
            throw TransportError(operation: "bind \(purpose) to \(host) port \(port)", errno: code)
        }
        let lanes = Lanes(
            normal: AsyncStream.makeStream(of: Datagram.self, bufferingPolicy: .bufferingNewest(options.inboundBuffer)),
            urgent: AsyncStream.makeStream(of: Datagram.self, bufferingPolicy: .bufferingNewest(options.urgentBuffer)))
        if options.urgent == nil { lanes.urgent.continuation.finish() }
        return try UDPSocket(
            descriptor: descriptor, isIPv6: isIPv6, lanes: lanes, options: options, purpose: purpose, logger: logger)
    }

    private static func setOption(_ descriptor: Int32, _ level: Int32, _ name: Int32, _ value: Int32) {
        var value = value
        setsockopt(descriptor, level, name, &value, socklen_t(MemoryLayout<Int32>.size))
    }

    /// The two queues between the receiver thread and the daemon.
    private struct Lanes: Sendable {
        var normal: (stream: AsyncStream<Datagram>, continuation: AsyncStream<Datagram>.Continuation)
        var urgent: (stream: AsyncStream<Datagram>, continuation: AsyncStream<Datagram>.Continuation)
    }

    private init(
        descriptor: Int32, isIPv6: Bool, lanes: Lanes, options: Options, purpose: String, logger: Logger
    ) throws {
        self.descriptor = descriptor
        self.isIPv6 = isIPv6
        self.datagrams = lanes.normal.stream
        self.urgentDatagrams = lanes.urgent.stream
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        self.localPort = named == 0 ? (try? SocketAddress(storage: storage))?.port : nil
        let flags = self.flags
        let started = BlockingThread.start(name: options.threadName) {
            Self.receiveLoop(
                descriptor: descriptor, maximumDatagram: options.maximumDatagram, lanes: lanes, urgent: options.urgent,
                flags: flags, purpose: purpose, logger: logger)
        }
        guard started == 0 else {
            Glibc.close(descriptor)
            throw TransportError(operation: "start the receiving thread of \(purpose)", errno: started)
        }
    }

    private static func receiveLoop(
        descriptor: Int32, maximumDatagram: Int, lanes: Lanes, urgent: (@Sendable ([UInt8]) -> Bool)?, flags: Flags,
        purpose: String, logger: Logger
    ) {
        var buffer = [UInt8](repeating: 0, count: maximumDatagram)
        while !flags.closed.load(ordering: .acquiring) {
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let count = buffer.withUnsafeMutableBytes { raw in
                withUnsafeMutablePointer(to: &storage) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        recvfrom(descriptor, raw.baseAddress, raw.count, 0, $0, &length)
                    }
                }
            }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN || errno == ECONNREFUSED { continue }
                if !flags.closed.load(ordering: .acquiring) {
                    logger.error("\(purpose) failed to receive: \(String(cString: strerror(errno)))")
                }
                break
            }
            guard let source = try? SocketAddress(storage: storage) else { continue }
            let datagram = Datagram(bytes: Array(buffer[0..<count]), source: source)
            if let urgent, urgent(datagram.bytes) {
                if case .dropped = lanes.urgent.continuation.yield(datagram) {
                    flags.urgentDropped.add(1, ordering: .relaxed)
                }
                continue
            }
            flags.received.add(1, ordering: .relaxed)
            if case .dropped = lanes.normal.continuation.yield(datagram) {
                flags.dropped.add(1, ordering: .relaxed)
            }
        }
        lanes.normal.continuation.finish()
        lanes.urgent.continuation.finish()
    }

    /// Sends one datagram without blocking; a failure (no route, full buffer) is a lost datagram.
    func send(_ bytes: [UInt8], to address: SocketAddress) {
        let sent = bytes.withUnsafeBytes { raw in
            address.withSockAddr { pointer, length in
                sendto(
                    descriptor, raw.baseAddress, raw.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL), pointer,
                    socklen_t(length))
            }
        }
        if sent < 0 {
            flags.lastSendErrno.store(errno, ordering: .relaxed)
            flags.sendFailures.add(1, ordering: .relaxed)
        }
    }

    /// A datagram dropped before the kernel saw it (no address of the socket's family).
    func countFailedSend() {
        flags.lastSendErrno.store(EAFNOSUPPORT, ordering: .relaxed)
        flags.sendFailures.add(1, ordering: .relaxed)
    }

    /// Datagrams taken from the kernel for `datagrams` since start (some may wait there, or have
    /// been dropped from it when it was full); the urgent ones are not counted.
    var receivedCount: Int { flags.received.load(ordering: .relaxed) }
    /// Datagrams dropped from a full `datagrams` queue (the oldest go first).
    var droppedCount: Int { flags.dropped.load(ordering: .relaxed) }
    /// Urgent datagrams dropped from a full `urgentDatagrams` queue.
    var urgentDroppedCount: Int { flags.urgentDropped.load(ordering: .relaxed) }

    /// Datagrams the kernel refused to send (unreachable, buffer full) since start.
    var failedSends: Int { flags.sendFailures.load(ordering: .relaxed) }

    /// Why the kernel last refused a datagram ("" before any refusal), for the log.
    var lastSendError: String {
        let code = flags.lastSendErrno.load(ordering: .relaxed)
        return code == 0 ? "" : String(cString: strerror(code))
    }

    /// Stops the receiver thread and closes the socket.
    func close() {
        guard !flags.closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        shutdown(descriptor, Int32(SHUT_RDWR))
        Glibc.close(descriptor)
    }
}

struct TransportError: Error, CustomStringConvertible {
    var operation: String
    var errno: Int32
    var description: String { "\(operation): \(String(cString: strerror(errno)))" }
}

extension SocketAddress {
    /// Reads an IPv4 or IPv6 address out of a `sockaddr_storage` filled by the kernel.
    init(storage: sockaddr_storage) throws {
        var copy = storage
        switch Int32(storage.ss_family) {
        case AF_INET:
            let address = withUnsafePointer(to: &copy) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee }
            }
            self = SocketAddress(address, host: "")
        case AF_INET6:
            let address = withUnsafePointer(to: &copy) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee }
            }
            self = SocketAddress(address, host: "")
        default:
            throw TransportError(operation: "read a datagram's source address", errno: EAFNOSUPPORT)
        }
    }
}
