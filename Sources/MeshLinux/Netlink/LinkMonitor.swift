import CMnl
import MeshCore

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// Tells the daemon at once when the host's network changes: a link going up or down, an
/// address added or removed, the default route moving (a laptop on another Wi-Fi, a phone
/// tethered, a VPS that got a new address), as tailscale's net/netmon does.
///
/// An rtnetlink socket subscribed to the link, IPv4 and IPv6 address and IPv4 and IPv6 route
/// groups only says that something changed; the kernel also announces the mesh's own
/// interfaces and routes, lifetimes refreshed by router advertisements and much else that
/// changes nothing for a mesh. So each burst of messages (until 50 ms pass without one, 250 ms
/// at most) is followed by a fresh dump, reduced to what matters (`NetworkSnapshot`), and a
/// change is reported only when that differs from the last one.
///
/// One thread blocks in `poll` on the socket, as `UDPSocket`'s receiver does in `recvfrom`,
/// and hands changes to an `AsyncStream` that a task of the daemon's task group reads; `close`
/// wakes the thread through a pipe, and it ends, closing its sockets and the stream.
public final class LinkMonitor: Sendable {
    /// One reported change: what differs, for the log and the mesh's reconnect reason.
    public struct Change: Sendable, Equatable {
        public var summary: String
    }

    public let changes: AsyncStream<Change>
    /// The write end of the pipe that wakes the thread to stop.
    private let wake: Int32

    /// Quiet time after the last message of a burst, and the longest a burst is waited for.
    static let quiet = Duration.milliseconds(50)
    static let longest = Duration.milliseconds(250)

    /// The groups of `RTMGRP_*` in <linux/rtnetlink.h>: links, IPv4 and IPv6 addresses and routes.
    static let groups =
        UInt32(RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE)
        | UInt32(RTMGRP_IPV6_ROUTE)

    /// Subscribes and starts watching; fails when rtnetlink cannot be opened.
    public static func start() throws -> LinkMonitor {
        guard let socket = mnl_socket_open(NETLINK_ROUTE) else {
            throw NetlinkError(operation: "open the link monitor's netlink socket", errno: Glibc.errno)
        }
        guard mnl_socket_bind(socket, groups, pid_t(MNL_SOCKET_AUTOPID)) >= 0 else {
            let code = Glibc.errno
            mnl_socket_close(socket)
            throw NetlinkError(operation: "subscribe to link, address and route changes", errno: code)
        }
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else {
            let code = Glibc.errno
            mnl_socket_close(socket)
            throw NetlinkError(operation: "create the link monitor's pipe", errno: code)
        }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        let dumps = try? NetlinkSocket.route()
        let (stream, continuation) = AsyncStream.makeStream(of: Change.self, bufferingPolicy: .bufferingNewest(8))
        let monitor = LinkMonitor(changes: stream, wake: ends[1])
        let watcher = Watcher(socket: socket, stop: ends[0], dumps: dumps, continuation: continuation)
        let started = BlockingThread.start(name: "smegd-linkmon") { watcher.run() }
        guard started == 0 else {
            for end in ends { Glibc.close(end) }
            mnl_socket_close(socket)
            throw NetlinkError(operation: "start the link monitor's thread", errno: started)
        }
        return monitor
    }

    private init(changes: AsyncStream<Change>, wake: Int32) {
        self.changes = changes
        self.wake = wake
    }

    /// Stops the thread; the stream then finishes.
    public func close() {
        var byte: UInt8 = 1
        _ = write(wake, &byte, 1)
        Glibc.close(wake)
    }

    /// The thread's state, touched only by the thread.
    private final class Watcher: @unchecked Sendable {
        let socket: OpaquePointer
        let stop: Int32
        let dumps: NetlinkSocket?
        let continuation: AsyncStream<Change>.Continuation
        var buffer = [UInt8](repeating: 0, count: 65536)

        init(socket: OpaquePointer, stop: Int32, dumps: NetlinkSocket?, continuation: AsyncStream<Change>.Continuation)
        {
            self.socket = socket
            self.stop = stop
            self.dumps = dumps
            self.continuation = continuation
        }

        func run() {
            defer {
                mnl_socket_close(socket)
                Glibc.close(stop)
                continuation.finish()
            }
            var last = read()
            var burst: (first: ContinuousClock.Instant, latest: ContinuousClock.Instant)?
            let descriptor = mnl_socket_get_fd(socket)
            while true {
                var timeout: Int32 = -1
                if let burst {
                    let now = ContinuousClock.now
                    let due = min(burst.latest + LinkMonitor.quiet, burst.first + LinkMonitor.longest)
                    timeout = due <= now ? 0 : Int32(max(1, (due - now).milliseconds))
                }
                var fds = [
                    pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0),
                    pollfd(fd: stop, events: Int16(POLLIN), revents: 0),
                ]
                let ready = poll(&fds, 2, timeout)
                if ready < 0 {
                    if Glibc.errno == EINTR { continue }
                    return
                }
                if fds[1].revents != 0 { return }
                if fds[0].revents != 0 {
                    // Overrun (ENOBUFS) loses messages, not the fact that something changed.
                    drain(descriptor)
                    let now = ContinuousClock.now
                    burst = (burst?.first ?? now, now)
                    continue
                }
                guard burst != nil else { continue }
                burst = nil
                let current = read()
                guard let current, let previous = last else {
                    last = current ?? last
                    continue
                }
                let differences = current.differences(from: previous)
                last = current
                if !differences.isEmpty { continuation.yield(Change(summary: NetworkSnapshot.summary(differences))) }
            }
        }

        private func drain(_ descriptor: Int32) {
            while true {
                let count = buffer.withUnsafeMutableBytes {
                    recv(descriptor, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT))
                }
                if count <= 0 { return }
            }
        }

        private func read() -> NetworkSnapshot? {
            guard let dumps, let links = try? dumps.dumpLinks(), let addresses = try? dumps.dumpAddresses() else {
                return nil
            }
            let routes =
                ((try? dumps.dumpRoutes(family: AF_INET)) ?? []) + ((try? dumps.dumpRoutes(family: AF_INET6)) ?? [])
            return NetworkSnapshot(links: links, addresses: addresses, routes: routes)
        }
    }
}

/// What of the host's network matters to a mesh, comparable between two moments: the links
/// other than loopback and mesh (WireGuard) interfaces, whether each is up and has carrier,
/// their addresses other than link-local ones, and the main table's default routes. Lifetimes,
/// the mesh's own interfaces and routes, and routes other than default ones are left out: they
/// change often and say nothing about where this host is.
public struct NetworkSnapshot: Equatable, Sendable {
    public struct Link: Hashable, Sendable {
        public var name: String
        public var isUp: Bool
        public var isRunning: Bool
    }

    public struct Address: Hashable, Sendable {
        public var link: String
        public var prefix: IPNet
    }

    public struct DefaultRoute: Hashable, Sendable {
        public var gateway: [UInt8]?
        public var link: String?
        public var metric: UInt32?
        public var family: Int
    }

    public var links: Set<Link>
    public var addresses: Set<Address>
    public var defaultRoutes: Set<DefaultRoute>

    public init(links: [LinkInfo], addresses: [InterfaceAddress], routes: [RouteEntry]) {
        let kept = links.filter {
            $0.name != "lo" && !$0.name.hasPrefix(InterfaceName.prefix) && $0.kind != "wireguard"
        }
        let names = Dictionary(kept.map { ($0.index, $0.name) }, uniquingKeysWith: { first, _ in first })
        self.links = Set(kept.map { Link(name: $0.name, isUp: $0.isUp, isRunning: $0.isRunning) })
        self.addresses = Set(
            addresses.compactMap { entry in
                guard let name = names[entry.linkIndex], !Self.isLinkLocal(entry.prefix) else { return nil }
                return Address(link: name, prefix: entry.prefix)
            })
        self.defaultRoutes = Set(
            routes.compactMap { route in
                guard route.destination.prefixLength == 0, route.table == RouteEntry.mainTable,
                    route.proto != RouteEntry.meshProtocol
                else { return nil }
                // A default route through a mesh interface (an exit's, in a table of its own, or
                // an operator's) is not where this host is.
                if let index = route.linkIndex, names[index] == nil { return nil }
                return DefaultRoute(
                    gateway: route.gateway, link: route.linkIndex.flatMap { names[$0] }, metric: route.metric,
                    family: route.destination.address.count)
            })
    }

    static func isLinkLocal(_ prefix: IPNet) -> Bool {
        let bytes = prefix.address
        if bytes.count == 16 { return bytes[0] == 0xfe && bytes[1] & 0xc0 == 0x80 }
        return bytes[0] == 169 && bytes[1] == 254
    }

    /// What changed from `old` to this, one phrase each, in a stable order.
    public func differences(from old: NetworkSnapshot) -> [String] {
        var out: [String] = []
        let oldLinks = Dictionary(old.links.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let newLinks = Dictionary(links.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for name in Set(oldLinks.keys).union(newLinks.keys).sorted() {
            switch (oldLinks[name], newLinks[name]) {
            case (nil, let link?): out.append("\(name) appeared\(link.state)")
            case (_?, nil): out.append("\(name) went away")
            case (let before?, let after?) where before != after: out.append("\(name)\(after.state)")
            default: break
            }
        }
        for address in addresses.subtracting(old.addresses).sorted(by: Self.order) {
            out.append("\(address.prefix) added on \(address.link)")
        }
        for address in old.addresses.subtracting(addresses).sorted(by: Self.order) {
            out.append("\(address.prefix) removed from \(address.link)")
        }
        for route in defaultRoutes.subtracting(old.defaultRoutes).sorted(by: { $0.text < $1.text }) {
            out.append("default route \(route.text) added")
        }
        for route in old.defaultRoutes.subtracting(defaultRoutes).sorted(by: { $0.text < $1.text }) {
            out.append("default route \(route.text) removed")
        }
        return out
    }

    /// The differences as one line: the first four, and how many more.
    public static func summary(_ differences: [String]) -> String {
        let shown = differences.prefix(4).joined(separator: "; ")
        return differences.count > 4 ? "\(shown) and \(differences.count - 4) more" : shown
    }

    private static func order(_ a: Address, _ b: Address) -> Bool { (a.link, a.prefix) < (b.link, b.prefix) }
}

extension NetworkSnapshot.Link {
    var state: String { isUp ? (isRunning ? " up" : " up without carrier") : " down" }
}

extension NetworkSnapshot.DefaultRoute {
    var text: String {
        var parts: [String] = []
        if let gateway, let address = IPNet(address: gateway, prefixLength: UInt8(gateway.count * 8)) {
            parts.append("via \(address.description.split(separator: "/").first.map(String.init) ?? "\(address)")")
        }
        if let link { parts.append("dev \(link)") }
        if let metric { parts.append("metric \(metric)") }
        return parts.isEmpty ? (family == 16 ? "::/0" : "0.0.0.0/0") : parts.joined(separator: " ")
    }
}

extension Duration {
    fileprivate var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
