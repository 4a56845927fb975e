import CMnl
import MeshCore

#if canImport(Glibc)
    import Glibc
#endif

/// A userspace WireGuard (wireguard-go, boringtun) driven over its UAPI socket
/// `<socketDirectory>/<ifname>.sock`.
///
/// The socket directory is shared by every network namespace on the machine (it is just a
/// path), so two interfaces with the same name in different namespaces would fight over one
/// socket: give them different names.
public final class UserspaceWireGuardBackend: WireGuardBackend {
    public let kind = WireGuardBackendKind.userspace
    public let socketDirectory: String
    /// The program started for a missing interface, `wg-quick`'s convention: the
    /// `WG_QUICK_USERSPACE_IMPLEMENTATION` environment variable, else `wireguard-go`.
    public let implementation: String
    private let log: @Sendable (String) -> Void
    private let route: NetlinkSocket

    public static let defaultSocketDirectory = "/var/run/wireguard"

    public init(
        socketDirectory: String = UserspaceWireGuardBackend.defaultSocketDirectory, implementation: String? = nil,
        log: @escaping @Sendable (String) -> Void = { _ in }
    ) throws {
        self.socketDirectory = socketDirectory
        self.implementation =
            implementation ?? getenv("WG_QUICK_USERSPACE_IMPLEMENTATION").map { String(cString: $0) } ?? "wireguard-go"
        self.log = log
        self.route = try NetlinkSocket(bus: NETLINK_ROUTE)
    }

    public func socketPath(_ name: String) -> String { "\(socketDirectory)/\(name).sock" }

    /// True when a daemon answers on the interface's socket (a stale file does not count).
    public func isRunning(_ name: String) -> Bool {
        guard let descriptor = try? connect(name) else { return false }
        close(descriptor)
        return true
    }

    /// Starts the userspace implementation for `name` unless one already serves it.
    ///
    /// wireguard-go daemonizes by default: the command returns once the TUN device and the UAPI
    /// socket exist, and the daemon lives on after we exit (as it must for a CLI) and stops by
    /// itself when the link is deleted. We still wait for the socket to answer, bounded.
    public func createInterface(_ name: String) throws {
        if isRunning(name) { return }
        log("starting userspace WireGuard for \(name): \(implementation) \(name)")
        let status = try Self.run([implementation, name])
        guard status == 0 else {
            throw WireGuardError.userspaceStartFailed("\(implementation) \(name) exited with status \(status)")
        }
        for _ in 0..<100 {
            if isRunning(name) { return }
            usleep(50_000)
        }
        throw WireGuardError.userspaceStartFailed("no UAPI socket at \(socketPath(name)) after 5 s")
    }

    public func deleteInterface(_ name: String) throws {
        try route.deleteLink(name: name)
    }

    public func device(named name: String) throws -> WireGuardDevice {
        let response = try exchange(WireGuardUAPI.getRequest, with: name, operation: "get WireGuard device \(name)")
        return try WireGuardUAPI.parseDevice(response, name: name)
    }

    public func apply(_ update: WireGuardDeviceUpdate, to name: String) throws {
        let operation = "set WireGuard device \(name)"
        let response = try exchange(WireGuardUAPI.setRequest(update), with: name, operation: operation)
        guard let code = WireGuardUAPI.responseErrno(response) else { throw WireGuardError.malformedUAPI(response) }
        if code != 0 { throw WireGuardError.uapi(operation: operation, errno: code) }
    }

    /// Sends one request and reads until the response's terminating empty line. `MSG_NOSIGNAL`:
    /// a daemon that dies mid-request must give us EPIPE, not kill the caller with SIGPIPE.
    private func exchange(_ request: String, with name: String, operation: String) throws -> String {
        let descriptor = try connect(name)
        defer { close(descriptor) }
        var bytes = Array(request.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes {
                send(descriptor, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
            }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { throw WireGuardError.socket(operation: operation, errno: errno) }
            offset += written
        }
        bytes.removeAll(keepingCapacity: true)
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress!, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw WireGuardError.socket(operation: operation, errno: errno) }
            if count == 0 { break }
            bytes += chunk[..<count]
            // Responses end with "errno=N\n\n"; checking the tail alone keeps this linear.
            if bytes.count >= 2, bytes[bytes.count - 1] == 10, bytes[bytes.count - 2] == 10 { break }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private func connect(_ name: String) throws -> Int32 {
        let path = socketPath(name)
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw WireGuardError.socket(operation: "socket for \(path)", errno: errno) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(descriptor)
            throw WireGuardError.socket(operation: "connect \(path)", errno: ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: pathBytes) }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else {
            let code = errno
            close(descriptor)
            throw WireGuardError.socket(operation: "connect \(path)", errno: code)
        }
        return descriptor
    }

    /// Sets FD_CLOEXEC on every open descriptor above stderr, listed from /proc/self/fd.
    static func markAllDescriptorsCloseOnExec() {
        guard let directory = opendir("/proc/self/fd") else { return }
        defer { closedir(directory) }
        let own = dirfd(directory)
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            guard let descriptor = Int32(name), descriptor > 2, descriptor != own else { continue }
            let flags = fcntl(descriptor, F_GETFD)
            if flags >= 0 && flags & FD_CLOEXEC == 0 { _ = fcntl(descriptor, F_SETFD, flags | FD_CLOEXEC) }
        }
    }

    /// Runs a program found on PATH and waits for it; returns its exit status.
    static func run(_ arguments: [String]) throws -> Int32 {
        var pid: pid_t = 0
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        // The child (and the daemon it forks) must inherit nothing but stdio: an inherited
        // socket of ours (the control connection, the gossip port) would outlive smegd in
        // wireguard-go, and a client waiting for that connection to close would hang.
        // No process of ours hands descriptors to children, so marking every one close-on-exec
        // is always right (Swift cannot reach glibc's posix_spawn_file_actions_addclosefrom_np).
        markAllDescriptorsCloseOnExec()
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        let spawned = posix_spawnp(&pid, arguments[0], &actions, nil, &argv, environ)
        guard spawned == 0 else {
            throw WireGuardError.userspaceStartFailed("\(arguments[0]): \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else {
                throw WireGuardError.socket(operation: "wait for \(arguments[0])", errno: errno)
            }
        }
        // WIFEXITED/WEXITSTATUS are macros; decode the wait status by hand.
        return status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
}
