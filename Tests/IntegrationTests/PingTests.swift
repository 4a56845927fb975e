import Foundation
import Testing

/// `smegctl ping` between two real control-plane-only daemons, peers of one mesh.
///
/// Probes go to the member's overlay address, and a control-plane-only daemon has no interface
/// that holds one: nothing answers, so ping must report every probe lost and exit 1 within
/// its timeout, while still naming the path (peers keep a session with each other: "direct").
/// With root, the second test puts both overlay addresses on the loopback interface, which
/// stands in for the tunnel, and the probes are answered by the other daemon.
@Suite(.serialized) struct PingTests {
    static var hasIP: Bool { FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") }

    /// Two peers "alpha" and "beta" of one mesh that see each other; the mesh id.
    static func pair(_ first: DaemonHarness, _ second: DaemonHarness) throws -> String {
        let (mesh, token) = try first.create(["create", "--alias", "alpha", "--name", "lab"])
        let joined = try second.ctl(["join", "--alias", "beta", token])
        #expect(joined.status == 0, "\(joined.stderr)")
        #expect(try first.waitForMembers(mesh, 2))
        #expect(try second.waitForMembers(mesh, 2))
        #expect(try first.waitForPath(mesh, to: "beta", kind: "direct"))
        #expect(try second.waitForPath(mesh, to: "alpha", kind: "direct"))
        return mesh
    }

    static func object(_ text: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not JSON: \(text)")
    }

    /// Runs `ping` and answers its result with how long it took.
    static func timed(_ daemon: DaemonHarness, _ arguments: [String]) throws -> (ProcessResult, Duration) {
        let start = ContinuousClock.now
        let result = try daemon.ctl(["ping"] + arguments)
        return (result, ContinuousClock.now - start)
    }

    @Test func withoutTunnelsEveryProbeTimesOutAndPingExitsOne() throws {
        let first = try DaemonHarness(name: "ping-a")
        let second = try DaemonHarness(name: "ping-b")
        defer {
            first.stop()
            second.stop()
        }
        let mesh = try Self.pair(first, second)

        let (json, _) = try Self.timed(first, [mesh, "beta", "--count", "2", "--timeout", "300", "--json"])
        #expect(json.status == 1, "\(json.stderr)")
        let result = try Self.object(json.stdout)
        #expect((result["path"] as? [String: Any])?["kind"] as? String == "direct")
        #expect(result["alias"] as? String == "beta")
        #expect((result["replies"] as? [Any])?.count == 2)
        #expect((result["replies"] as? [Any])?.allSatisfy { $0 is NSNull } == true)

        // From the other side, by overlay address: the same, in words.
        let address = try #require(result["address"] as? String)
        let alpha = try #require(
            (try Self.object(try second.ctl(["get", mesh, "--json"]).stdout)["members"] as? [[String: Any]])?
                .first { $0["alias"] as? String == "alpha" }?["address"] as? String)
        let (text, took) = try Self.timed(
            second, ["lab", alpha, "--count", "3", "--interval", "100", "--timeout", "400"])
        #expect(text.status == 1, "\(text.stderr)")
        let lines = text.stdout.split(separator: "\n").map(String.init)
        #expect(lines.prefix(3).allSatisfy { $0 == "no reply from alpha within 400 ms" }, "\(text.stdout)")
        #expect(lines.last == "--- alpha: 3 probes sent, 0 replies, 100% loss")
        // Two intervals and one timeout, 0.6 s, plus two processes' start on a busy machine.
        #expect(took < .seconds(5), "ping took \(took)")

        let byAddress = try first.ctl(["ping", mesh, address, "--count", "1", "--timeout", "100"])
        #expect(byAddress.status == 1 && byAddress.stdout.hasPrefix("no reply from beta within 100 ms\n"))
        let me = try first.ctl(["ping", mesh, "alpha"])
        #expect(me.status == 1 && me.stderr.contains("is this node itself"), "\(me.stderr)")
        let unknown = try first.ctl(["ping", mesh, "gamma"])
        #expect(
            unknown.status == 1 && unknown.stderr.contains("no member 'gamma' in mesh \(mesh)"), "\(unknown.stderr)")
        let noMesh = try first.ctl(["ping", "nosuchmesh", "beta"])
        #expect(noMesh.status == 1 && noMesh.stderr.contains("no mesh 'nosuchmesh'"), "\(noMesh.stderr)")
        let bad = try first.ctl(["ping", mesh, "beta", "--interval", "10"])
        #expect(bad.status == 2 && bad.stderr.contains("--interval must be from 50 to 2000 ms, not 10"))
    }

    /// Needs root, to add addresses to the loopback interface: reported as skipped without it.
    @Test(.enabled(if: getuid() == 0 && hasIP, "needs root and ip(8) (puts overlay addresses on lo)"))
    func probesAreAnsweredWhenTheOverlayAddressesAreReachable() throws {
        // Gossip on every address, so that probes to an overlay address on lo reach it.
        let first = try DaemonHarness(name: "ping-lo-a", arguments: ["--set", "gossipBind=::"])
        let second = try DaemonHarness(name: "ping-lo-b", arguments: ["--set", "gossipBind=::"])
        defer {
            first.stop()
            second.stop()
        }
        let mesh = try Self.pair(first, second)
        let members = try #require(
            try Self.object(try first.ctl(["get", mesh, "--json"]).stdout)["members"] as? [[String: Any]])
        let addresses = members.compactMap { $0["address"] as? String }
        #expect(addresses.count == 2)
        for address in addresses {
            let added = try ProcessRunner.run(
                URL(fileURLWithPath: "/usr/sbin/ip"), ["-6", "addr", "add", "\(address)/128", "dev", "lo"])
            #expect(added.status == 0, "\(added.stderr)")
        }
        defer {
            for address in addresses {
                _ = try? ProcessRunner.run(
                    URL(fileURLWithPath: "/usr/sbin/ip"), ["-6", "addr", "del", "\(address)/128", "dev", "lo"])
            }
        }
        let (result, _) = try Self.timed(first, [mesh, "beta", "--count", "3", "--interval", "50"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let beta = try #require(members.first { $0["alias"] as? String == "beta" }?["address"] as? String)
        #expect(
            lines.prefix(3).allSatisfy { $0.hasPrefix("reply from beta (\(beta)) via direct: ") }, "\(result.stdout)")
        #expect(lines.last?.hasPrefix("--- beta: 3 probes sent, 3 replies, 0% loss, rtt min/avg/max ") == true)
    }
}
