import CMnl
import MeshCore

#if canImport(Glibc)
    import Glibc
#endif

/// Opens the backend for one interface and makes sure the interface exists.
public enum WireGuardBackendSelector {
    public static func open(
        interface name: String, choice: WireGuardBackendChoice,
        socketDirectory: String = UserspaceWireGuardBackend.defaultSocketDirectory,
        log: @escaping @Sendable (String) -> Void = { _ in }
    ) throws -> any WireGuardBackend {
        switch choice {
        case .kernel:
            let backend = try KernelWireGuardBackend()
            try backend.createInterface(name)
            return backend
        case .userspace:
            let backend = try UserspaceWireGuardBackend(socketDirectory: socketDirectory, log: log)
            try backend.createInterface(name)
            return backend
        case .auto:
            return try openAutomatically(name, socketDirectory: socketDirectory, log: log)
        }
    }

    private static func openAutomatically(
        _ name: String, socketDirectory: String, log: @escaping @Sendable (String) -> Void
    ) throws -> any WireGuardBackend {
        let userspace = try UserspaceWireGuardBackend(socketDirectory: socketDirectory, log: log)
        if userspace.isRunning(name) { return userspace }
        let route = try NetlinkSocket(bus: NETLINK_ROUTE)
        if let link = try route.dumpLinks().first(where: { $0.name == name }) {
            guard link.kind == "wireguard" else {
                throw WireGuardError.userspaceStartFailed(
                    "\(name) exists (kind \(link.kind ?? "none")) but no userspace daemon answers on "
                        + userspace.socketPath(name))
            }
            return try KernelWireGuardBackend()
        }
        do {
            try route.createLink(name: name, kind: "wireguard")
            return try KernelWireGuardBackend()
        } catch let error as NetlinkError where error.errno == EOPNOTSUPP || error.errno == ENODEV {
            log(
                "the kernel has no WireGuard module (\(error)); using userspace \(userspace.implementation) for \(name)"
            )
            try userspace.createInterface(name)
            return userspace
        }
    }
}
