import Foundation

/// A real `smegd` in control-plane-only mode on a private socket and state directory, for tests
/// that drive it with the real `smegctl`. No root and no WireGuard needed.
final class DaemonHarness {
    let directory: URL
    let socket: String
    let gossipPort: Int
    private let process = Process()

    /// `arguments` are added to the command line (e.g. `--set dnsListen=...`).
    init(name: String, arguments: [String] = []) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("smegd-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        socket = directory.appendingPathComponent("smegd.sock").path
        gossipPort = Int.random(in: 20_000...60_000)
        process.executableURL = BinaryLocator.url(of: "smegd")
        process.arguments = [
            "--control-plane-only", "--state-dir", directory.appendingPathComponent("state").path, "--socket", socket,
            "--gossip-port", "\(gossipPort)", "--set", "metricsListen=off", "--set", "gossipBind=127.0.0.1",
        ]
        process.arguments?.append(contentsOf: arguments)
        let log = FileHandle(forWritingAtPath: "/dev/null")
        process.standardOutput = log
        process.standardError = log
        try process.run()
        for _ in 0..<100 {
            if (try? ctl(["status"]))?.status == 0 { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw HarnessError("smegd did not start on \(socket)")
    }

    /// Runs `smegctl --socket <ours> ARGS`.
    func ctl(_ arguments: [String], stdin: String? = nil) throws -> ProcessResult {
        try ProcessRunner.run(BinaryLocator.url(of: "smegctl"), ["--socket", socket] + arguments, stdin: stdin)
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
