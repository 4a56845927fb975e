import Foundation
import Logging
import NIOCore
import NIOPosix
import Testing

@testable import smegd

@Suite struct MetricsTests {
    @Test func expositionIsSortedTypedAndEscaped() {
        let registry = MetricsRegistry()
        registry.declare("smeg_members", .gauge, help: "Live members per mesh.")
        registry.declare("smeg_frames_rejected_total", .counter, help: "Frames dropped, by reason.")
        registry.set("smeg_members", 3, labels: ["mesh": "b"])
        registry.set("smeg_members", 5, labels: ["mesh": "a\"\n\\"])
        registry.increment("smeg_frames_rejected_total", labels: ["reason": "seal"])
        registry.increment("smeg_frames_rejected_total", by: 2, labels: ["reason": "seal"])
        let text = registry.exposition()
        #expect(
            text == """
                # HELP smeg_frames_rejected_total Frames dropped, by reason.
                # TYPE smeg_frames_rejected_total counter
                smeg_frames_rejected_total{reason="seal"} 3
                # HELP smeg_members Live members per mesh.
                # TYPE smeg_members gauge
                smeg_members{mesh="a\\"\\n\\\\"} 5
                smeg_members{mesh="b"} 3

                """)
        registry.clear("smeg_members", labels: ["mesh": "b"])
        #expect(registry.value("smeg_members", labels: ["mesh": "b"]) == nil)
        #expect(registry.value("smeg_frames_rejected_total", labels: ["reason": "seal"]) == 3)
    }

    @Test func servesMetricsOverLoopbackTCP() async throws {
        let registry = MetricsRegistry()
        registry.set("smeg_up", 1)
        let endpoint = MetricsEndpoint(registry: registry, logger: Logger(label: "test"))
        let listener = try await endpoint.http.bind(
            host: "127.0.0.1", port: 0, on: MultiThreadedEventLoopGroup.singleton)
        let port = try #require(listener.channel.localAddress?.port)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await endpoint.http.serve(listener) }
            let (status, output) = try await offPool { () -> (Int32, String) in
                let curl = Process()
                curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
                curl.arguments = ["-sS", "--max-time", "10", "http://127.0.0.1:\(port)/metrics"]
                let pipe = Pipe()
                curl.standardOutput = pipe
                try curl.run()
                let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                curl.waitUntilExit()
                return (curl.terminationStatus, output)
            }
            #expect(status == 0)
            #expect(output.contains("smeg_up 1\n"))
            group.cancelAll()
        }
    }

    @Test(arguments: [("127.0.0.1:9469", "127.0.0.1", 9469), ("[::1]:80", "::1", 80)])
    func splitsListenAddresses(listen: String, host: String, port: Int) throws {
        let parsed = try #require(MetricsEndpoint.hostAndPort(listen))
        #expect(parsed.0 == host)
        #expect(parsed.1 == port)
    }
}
