import MeshCore
import Synchronization

/// Which runtime serves which mesh id: read for every datagram, written on create/join/leave.
final class MeshDirectory: Sendable {
    private let runtimes = Mutex<[MeshID: MeshRuntime]>([:])

    func runtime(for mesh: MeshID) -> MeshRuntime? {
        runtimes.withLock { $0[mesh] }
    }

    func insert(_ runtime: MeshRuntime) {
        runtimes.withLock { $0[runtime.mesh] = runtime }
    }

    func remove(_ mesh: MeshID) {
        runtimes.withLock { _ = $0.removeValue(forKey: mesh) }
    }

    /// Every runtime, ordered by mesh id so listings are stable.
    var all: [MeshRuntime] {
        runtimes.withLock { $0.values.sorted { $0.mesh < $1.mesh } }
    }
}
