import MeshCore

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
