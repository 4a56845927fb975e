import Synchronization

/// Counters and gauges for the Prometheus endpoint.
///
/// A handful of named series updated from several tasks: one mutex-protected dictionary is
/// cheaper to build and read than a metrics framework, and the text format is small enough to
/// write by hand (https://prometheus.io/docs/instrumenting/exposition_formats/).
final class MetricsRegistry: Sendable {
    enum Kind: String, Sendable { case counter, gauge }

    private struct Family: Sendable {
        var kind: Kind
        var help: String
        var series: [String: Double]  // rendered label set -> value
    }

    private let families = Mutex<[String: Family]>([:])

    /// Registers a metric so it appears (with no series) even before its first update.
    func declare(_ name: String, _ kind: Kind, help: String) {
        families.withLock { all in
            if all[name] == nil { all[name] = Family(kind: kind, help: help, series: [:]) }
        }
    }

    func increment(_ name: String, by amount: Double = 1, labels: [String: String] = [:]) {
        update(name, labels: labels, kind: .counter) { $0 += amount }
    }

    func set(_ name: String, _ value: Double, labels: [String: String] = [:]) {
        update(name, labels: labels, kind: .gauge) { $0 = value }
    }

    /// Drops every series of a gauge, e.g. per-mesh gauges after the node leaves a mesh.
    func clear(_ name: String, labels: [String: String]) {
        let key = Self.render(labels)
        families.withLock { _ = $0[name]?.series.removeValue(forKey: key) }
    }

    func value(_ name: String, labels: [String: String] = [:]) -> Double? {
        let key = Self.render(labels)
        return families.withLock { $0[name]?.series[key] }
    }

    /// The Prometheus text exposition of every metric, sorted so output is stable.
    func exposition() -> String {
        let snapshot = families.withLock { $0 }
        var out = ""
        for name in snapshot.keys.sorted() {
            let family = snapshot[name]!
            out += "# HELP \(name) \(family.help)\n# TYPE \(name) \(family.kind.rawValue)\n"
            for key in family.series.keys.sorted() {
                out += "\(name)\(key) \(Self.format(family.series[key]!))\n"
            }
        }
        return out
    }

    private func update(_ name: String, labels: [String: String], kind: Kind, _ change: (inout Double) -> Void) {
        let key = Self.render(labels)
        families.withLock { all in
            var family = all[name] ?? Family(kind: kind, help: name, series: [:])
            var value = family.series[key] ?? 0
            change(&value)
            family.series[key] = value
            all[name] = family
        }
    }

    /// `{a="1",b="x"}` with keys sorted and values escaped as the format requires.
    static func render(_ labels: [String: String]) -> String {
        guard !labels.isEmpty else { return "" }
        let parts = labels.keys.sorted().map { key in
            var escaped = ""
            for character in labels[key]! {
                switch character {
                case "\\": escaped += "\\\\"
                case "\"": escaped += "\\\""
                case "\n": escaped += "\\n"
                default: escaped.append(character)
                }
            }
            return "\(key)=\"\(escaped)\""
        }
        return "{" + parts.joined(separator: ",") + "}"
    }

    private static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
