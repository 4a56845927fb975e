import Foundation
import Testing

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

    /// Runs a verb that creates a mesh (`create ...`) with `--json` and answers its id and token.
    func create(_ arguments: [String]) throws -> (mesh: String, token: String) {
        let created = try ctl(arguments + ["--json"])
        #expect(created.status == 0, "\(created.stderr)")
        let reply = try #require(JSONSerialization.jsonObject(with: Data(created.stdout.utf8)) as? [String: Any])
        let mesh = try #require((reply["mesh"] as? [String: Any])?["meshId"] as? String)
        return (mesh, try #require(reply["token"] as? String))
    }

    /// Waits up to `seconds` until this daemon sees `count` members in `mesh`.
    func waitForMembers(_ mesh: String, _ count: Int, seconds: Int = 10) throws -> Bool {
        for _ in 0..<(seconds * 10) {
            let detail = try ctl(["get", mesh, "--json"])
            if detail.status == 0,
                let reply = try? JSONSerialization.jsonObject(with: Data(detail.stdout.utf8)) as? [String: Any],
                (reply["members"] as? [Any])?.count == count
            {
                return true
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return false
    }

    /// Waits up to `seconds` until this daemon names `kind` as its path to the member `alias`:
    /// membership arrives first, and the path follows at the next reconcile (debounced), so a
    /// test that reads a path right after `waitForMembers` would race that debounce.
    func waitForPath(_ mesh: String, to alias: String, kind: String, seconds: Int = 10) throws -> Bool {
        for _ in 0..<(seconds * 10) {
            let detail = try ctl(["get", mesh, "--json"])
            if detail.status == 0,
                let reply = try? JSONSerialization.jsonObject(with: Data(detail.stdout.utf8)) as? [String: Any],
                let members = reply["members"] as? [[String: Any]],
                let member = members.first(where: { $0["alias"] as? String == alias }),
                (member["path"] as? [String: Any])?["kind"] as? String == kind
            {
                return true
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return false
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
