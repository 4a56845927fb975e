import MeshCore
import Testing

@testable import smegd

/// The version reaches the metrics as Prometheus' build_info convention has it.
@Suite struct BuildInfoTests {
    @Test func metricsCarryTheVersion() {
        let registry = MetricsRegistry()
        Daemon.declareMetrics(registry)
        let text = registry.exposition()
        #expect(text.contains("# TYPE smeg_build_info gauge\n"))
        #expect(text.contains("smeg_build_info{version=\"\(SmegVersion.string)\"} 1\n"))
    }

    @Test func versionComesFromTheBuild() {
        #expect(!SmegVersion.string.isEmpty)
        #expect(SmegVersion.string != "0.1.0-dev")
        #expect(SmegVersion.string.allSatisfy { $0.isLetter || $0.isNumber || ".+~:-".contains($0) })
    }
}
