/// A change to one metric, as the node core returns it: the core decides what is counted, the
/// shell applies it to the registry.
public enum MetricUpdate: Equatable, Sendable {
    case increment(String, by: Double = 1, labels: [String: String])
    case set(String, Double, labels: [String: String])
    case clear(String, labels: [String: String])
    /// One gossip frame in or out of a mesh: counted in frames and in bytes.
    case frame(String, bytes: Int, mesh: MeshID)
    /// A frame refused before the protocol, by reason.
    case rejected(String)
}
