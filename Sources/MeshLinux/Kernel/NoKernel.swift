import MeshCore

/// Control-plane-only daemons: the same daemon code runs hundreds of times on one machine for
/// tests and benchmarks, and nothing touches the kernel.
public final class NoKernel: MeshKernel {
    public init() {}

    public var backendName: String { "none" }

    public func apply(_ desired: DesiredMeshState) throws -> MeshNode.Applied {
        MeshNode.Applied(summary: "control-plane-only: nothing applied", added: [])
    }

    public func restartHandshake(with key: WireGuardKey, unlessAfter: Double?) throws -> Bool { false }

    public func observePeers() throws -> [WireGuardKey: MeshNode.KernelPeer] { [:] }

    public func remove() {}

    /// Daemons without a data plane share one machine: loopback is where they reach each other.
    public func hostEndpoints(port: UInt16) -> [Endpoint] { HostAddresses.loopbackEndpoint(port: port) }
}
