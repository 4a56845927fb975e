/// Which implementation drives a WireGuard interface.
public enum WireGuardBackendKind: String, Sendable, Codable, CaseIterable {
    /// The kernel module, over generic netlink.
    case kernel
    /// A userspace implementation (wireguard-go, boringtun) over its UAPI socket.
    case userspace
}

/// The one interface both backends implement, as wireguard-tools keeps `ipc-linux.h` and
/// `ipc-uapi.h` behind the same calls. Links, addresses and routes are not here: they go
/// through rtnetlink whichever backend carries the tunnel.
///
/// Backends are synchronous: each call is a few syscalls that the kernel or the local daemon
/// answers at once. They are not thread-safe; give each thread its own.
public protocol WireGuardBackend: AnyObject {
    var kind: WireGuardBackendKind { get }

    /// Creates the interface if it does not exist yet.
    func createInterface(_ name: String) throws

    /// Deletes the interface (a userspace daemon exits when its TUN device goes).
    func deleteInterface(_ name: String) throws

    /// Reads configuration and statistics.
    func device(named name: String) throws -> WireGuardDevice

    /// Applies a change set.
    func apply(_ update: WireGuardDeviceUpdate, to name: String) throws
}

extension WireGuardBackend {
    /// Reads the device, computes the minimal change to reach `desired` and applies it.
    /// Returns what was sent (empty when the device already matched).
    @discardableResult
    public func reconcile(_ desired: WireGuardDevice) throws -> WireGuardDeviceUpdate {
        let current = try device(named: desired.name)
        let update = WireGuardReconciler.update(from: current, to: desired)
        if !update.isEmpty { try apply(update, to: desired.name) }
        return update
    }
}
