/// The kernel side of one mesh as its runtime sees it, the way wireguard-tools keeps kernel
/// netlink and userspace UAPI behind one small interface: Linux (`MeshInterface`) or nothing
/// at all (`NoKernel`), both in MeshLinux.
public protocol MeshKernel: AnyObject {
    /// "kernel", "userspace" or "none", for `status`.
    var backendName: String { get }
    /// Brings the kernel to `desired`, sending only the differences.
    func apply(_ desired: DesiredMeshState) throws -> MeshNode.Applied
    /// Starts the handshake with a peer again, unless one completed after `unlessAfter` (wall
    /// seconds; nil: unless one ever did); false when there was nothing to do.
    func restartHandshake(with key: WireGuardKey, unlessAfter: Double?) throws -> Bool
    /// What the device reports of its peers now: handshakes and the endpoints it learnt.
    func observePeers() throws -> [WireGuardKey: MeshNode.KernelPeer]
    /// Deletes the interface (on leave, or at shutdown when configured).
    func remove()
    /// The host's addresses at `port`, for endpoints others may reach this node at.
    func hostEndpoints(port: UInt16) -> [Endpoint]
}

/// Where a shell's log lines go, for code below the daemon that has no logger of its own.
public typealias LogSink = @Sendable (LogLevel, String) -> Void
