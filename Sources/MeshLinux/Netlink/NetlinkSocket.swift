import CMnl
import MeshCore

#if canImport(Glibc)
    import Glibc
#endif

/// A blocking netlink socket owned by one caller at a time.
///
/// Netlink requests are short and the kernel answers at once, so the I/O layer stays synchronous
/// and small; callers that live on an event loop run it on a thread of their own. Each request
/// carries a fresh sequence number and the reply is read until `NLMSG_DONE` or the ACK, with every
/// message handed to a Swift closure.
public final class NetlinkSocket {
    private let socket: OpaquePointer
    private let portID: UInt32
    private var sequence: UInt32
    private var receiveBuffer: [UInt8]

    /// Opens and binds a socket for `bus` (`NETLINK_ROUTE` or `NETLINK_GENERIC`).
    public init(bus: Int32) throws {
        guard let socket = mnl_socket_open(bus) else {
            throw NetlinkError(operation: "open netlink socket", errno: Glibc.errno)
        }
        guard mnl_socket_bind(socket, 0, pid_t(MNL_SOCKET_AUTOPID)) >= 0 else {
            let code = Glibc.errno
            mnl_socket_close(socket)
            throw NetlinkError(operation: "bind netlink socket", errno: code)
        }
        // Ask for extended ACKs so kernel errors carry their message; ignore failure on old kernels.
        var one: Int32 = 1
        _ = mnl_socket_setsockopt(socket, NETLINK_EXT_ACK, &one, socklen_t(MemoryLayout<Int32>.size))
        self.socket = socket
        self.portID = mnl_socket_get_portid(socket)
        self.sequence = UInt32(truncatingIfNeeded: time(nil))
        // Dumps of many peers arrive in messages up to 32 KiB (sized by our read buffer); libmnl's
        // own size is only the page size.
        self.receiveBuffer = [UInt8](repeating: 0, count: max(smeg_mnl_socket_buffer_size(), 65536))
    }

    deinit {
        mnl_socket_close(socket)
    }

    /// A socket for links, addresses and routes (`NETLINK_ROUTE`), so callers need no C import.
    public static func route() throws -> NetlinkSocket {
        try NetlinkSocket(bus: NETLINK_ROUTE)
    }

    /// Allocates the next sequence number for a request.
    public func nextSequence() -> UInt32 {
        sequence &+= 1
        return sequence
    }

    /// Sends one request that `build` writes into a buffer and reads every reply message until
    /// the kernel says it is done, calling `handle` for each data message.
    ///
    /// - Parameter operation: human text for errors, e.g. "dump links".
    public func request(
        operation: String,
        build: (UnsafeMutablePointer<nlmsghdr>) throws -> Void,
        handle: (UnsafePointer<nlmsghdr>) throws -> Void = { _ in }
    ) throws {
        let message = NetlinkMessageBuilder(type: 0, flags: 0, extraHeader: 0)
        try build(message.header)
        try request(operation: operation, message: message, handle: handle)
    }

    /// Sends a message built elsewhere (with a fresh sequence number) and reads its reply.
    public func request(
        operation: String, message: NetlinkMessageBuilder,
        handle: (UnsafePointer<nlmsghdr>) throws -> Void = { _ in }
    ) throws {
        let seq = nextSequence()
        message.header.pointee.nlmsg_seq = seq
        let sent = mnl_socket_sendto(socket, UnsafeRawPointer(message.header), message.length)
        guard sent >= 0 else { throw NetlinkError(operation: operation, errno: Glibc.errno) }
        try receive(operation: operation, sequence: seq, handle: handle)
    }

    private func receive(
        operation: String, sequence seq: UInt32, handle: (UnsafePointer<nlmsghdr>) throws -> Void
    ) throws {
        let capacity = receiveBuffer.count
        while true {
            let count = receiveBuffer.withUnsafeMutableBytes {
                mnl_socket_recvfrom(socket, $0.baseAddress!, capacity)
            }
            guard count >= 0 else { throw NetlinkError(operation: operation, errno: Glibc.errno) }
            let finished = try receiveBuffer.withUnsafeBytes { raw -> Bool in
                try walk(raw.baseAddress!, count: count, sequence: seq, operation: operation, handle: handle)
            }
            if finished { return }
        }
    }

    /// Walks the messages in one datagram; returns true once the reply is complete.
    private func walk(
        _ base: UnsafeRawPointer, count: Int, sequence seq: UInt32, operation: String,
        handle: (UnsafePointer<nlmsghdr>) throws -> Void
    ) throws -> Bool {
        var remaining = Int32(count)
        var message = base.assumingMemoryBound(to: nlmsghdr.self)
        while mnl_nlmsg_ok(message, remaining) {
            let header = message.pointee
            if header.nlmsg_seq == seq && header.nlmsg_pid == portID || header.nlmsg_pid == 0 {
                switch Int32(header.nlmsg_type) {
                case NLMSG_DONE:
                    // A dump that failed midway reports its error in the DONE payload.
                    if header.nlmsg_len >= UInt32(MemoryLayout<nlmsghdr>.size + 4) {
                        let code = mnl_nlmsg_get_payload(message)!.loadUnaligned(as: Int32.self)
                        if code < 0 { throw NetlinkError(operation: operation, errno: -code) }
                    }
                    return true
                case NLMSG_ERROR:
                    let error = mnl_nlmsg_get_payload(message)!.assumingMemoryBound(to: nlmsgerr.self)
                    let code = error.pointee.error
                    if code == 0 { return true }  // ACK
                    throw NetlinkError(
                        operation: operation, errno: -code, kernelMessage: Self.extendedAckMessage(message))
                case NLMSG_NOOP, NLMSG_OVERRUN:
                    break
                default:
                    try handle(message)
                    if header.nlmsg_flags & UInt16(NLM_F_MULTI) == 0 { return true }
                }
            }
            message = UnsafePointer(mnl_nlmsg_next(message, &remaining))
        }
        return false
    }

    /// The `NLMSGERR_ATTR_MSG` text of an error message, if the kernel attached one.
    ///
    /// The TLVs follow the `nlmsgerr`, which embeds the offending request's header and, unless
    /// the kernel capped it, that request's whole payload too.
    static func extendedAckMessage(_ message: UnsafePointer<nlmsghdr>) -> String? {
        let header = message.pointee
        guard header.nlmsg_flags & UInt16(NLM_F_ACK_TLVS) != 0 else { return nil }
        let payload = UnsafeRawPointer(mnl_nlmsg_get_payload(message)!)
        let error = payload.assumingMemoryBound(to: nlmsgerr.self).pointee
        var offset = MemoryLayout<nlmsgerr>.size
        if header.nlmsg_flags & UInt16(NLM_F_CAPPED) == 0 {
            offset += Int(error.msg.nlmsg_len) - MemoryLayout<nlmsghdr>.size
        }
        let end = UnsafeRawPointer(message) + Int(header.nlmsg_len)
        let start = payload + ((offset + 3) & ~3)
        guard start < end else { return nil }
        var text: String?
        NetlinkAttributes.forEach(from: start, to: end) { attribute in
            if NetlinkAttributes.type(attribute) == Int32(NLMSGERR_ATTR_MSG.rawValue) {
                text = NetlinkAttributes.string(attribute)
            }
        }
        return text
    }
}
