import MeshCore

/// The kernel side of one mesh as its runtime sees it, the way wireguard-tools keeps kernel
/// netlink and userspace UAPI behind one small interface: Linux (`MeshInterface`) or nothing
/// at all (`NoKernel`).
protocol MeshKernel: AnyObject {
    /// "kernel", "userspace" or "none", for `status`.
    var backendName: String { get }
    /// Brings the kernel to `desired`, sending only the differences.
    func apply(_ desired: DesiredMeshState) throws -> MeshNode.Applied
    /// Starts a peer's first handshake again; false when there was nothing to do.
    func restartHandshake(with key: WireGuardKey) throws -> Bool
    /// What the device reports of its peers now: handshakes and the endpoints it learnt.
    func observePeers() throws -> [WireGuardKey: MeshNode.KernelPeer]
    /// Deletes the interface (on leave, or at shutdown when configured).
    func remove()
    /// The host's addresses at `port`, for endpoints others may reach this node at.
    func hostEndpoints(port: UInt16) -> [Endpoint]
}

/// Control-plane-only daemons: the same daemon code runs hundreds of times on one machine for
/// tests and benchmarks, and nothing touches the kernel.
final class NoKernel: MeshKernel {
    var backendName: String { "none" }

    func apply(_ desired: DesiredMeshState) throws -> MeshNode.Applied {
        MeshNode.Applied(summary: "control-plane-only: nothing applied", added: [])
    }

    func restartHandshake(with key: WireGuardKey) throws -> Bool { false }

    func observePeers() throws -> [WireGuardKey: MeshNode.KernelPeer] { [:] }

    func remove() {}

    /// Daemons without a data plane share one machine: loopback is where they reach each other.
    func hostEndpoints(port: UInt16) -> [Endpoint] { HostAddresses.loopbackEndpoint(port: port) }
}
