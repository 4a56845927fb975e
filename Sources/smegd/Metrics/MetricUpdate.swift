import MeshCore

/// A change to one metric, as the node core returns it: the core decides what is counted, the
/// shell applies it to the registry.
enum MetricUpdate: Equatable, Sendable {
    case increment(String, by: Double = 1, labels: [String: String])
    case set(String, Double, labels: [String: String])
    case clear(String, labels: [String: String])
    /// One gossip frame in or out of a mesh: counted in frames and in bytes.
    case frame(String, bytes: Int, mesh: MeshID)
    /// A frame refused before the protocol, by reason.
    case rejected(String)
}

extension MetricsRegistry {
    func apply(_ update: MetricUpdate) {
        switch update {
        case .increment(let name, let amount, let labels):
            increment(name, by: amount, labels: labels)
        case .set(let name, let value, let labels):
            set(name, value, labels: labels)
        case .clear(let name, let labels):
            clear(name, labels: labels)
        case .frame(let direction, let bytes, let mesh):
            let labels = ["mesh": mesh.text, "direction": direction]
            increment("smeg_gossip_frames_total", labels: labels)
            increment("smeg_gossip_bytes_total", by: Double(bytes), labels: labels)
        case .rejected(let reason):
            increment("smeg_frames_rejected_total", labels: ["reason": reason])
        }
    }
}
