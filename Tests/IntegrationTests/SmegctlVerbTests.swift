import Foundation
import Testing

/// Every smegctl verb, run as the real binary against real daemons.
@Suite(.serialized) struct SmegctlVerbTests {
    private func json(_ text: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func everyVerbAgainstTwoDaemons() throws {
        let first = try DaemonHarness(name: "a")
        let second = try DaemonHarness(name: "b")
        defer {
            first.stop()
            second.stop()
        }
        // create prints a token; --json gives the same in stable fields.
        let created = try first.ctl(["create", "--alias", "alpha", "--name", "lab", "--json"])
        #expect(created.status == 0, "\(created.stderr)")
        let createdJSON = try json(created.stdout)
        let token = try #require(createdJSON["token"] as? String)
        let mesh = try #require((createdJSON["mesh"] as? [String: Any])?["meshId"] as? String)
        #expect(token.hasPrefix("smeg2-"))

        let joined = try second.ctl(["join", "--alias", "beta", token])
        #expect(joined.status == 0, "\(joined.stderr)")
        #expect(joined.stdout.contains("Joined mesh \(mesh)"))

        // Both see both members.
        var members = 0
        for _ in 0..<50 {
            let detail = try json(try second.ctl(["get", mesh, "--json"]).stdout)
            members = (detail["members"] as? [Any])?.count ?? 0
            if members == 2 { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(members == 2)
        let table = try first.ctl(["get", mesh])
        #expect(table.stdout.contains("alpha (you)"))
        #expect(table.stdout.contains("* leader"))

        let list = try second.ctl(["list"])
        #expect(list.stdout.contains(mesh))
        let status = try first.ctl(["status"])
        #expect(status.status == 0)
        #expect(status.stdout.contains("backend none"))
        let invite = try first.ctl(["invite", mesh])
        #expect(invite.stdout.hasPrefix("smeg2-"))

        #expect(try second.ctl(["alias", mesh, "gamma"]).status == 0)
        #expect(try second.ctl(["describe", mesh, "a test node"]).status == 0)
        #expect(try second.ctl(["service", "set", mesh, "http", "8080"]).status == 0)
        var found = false
        for _ in 0..<50 {
            let query = try first.ctl(["query", mesh, "--service", "http=8080", "--alias", "gam*"])
            if let array = try? JSONSerialization.jsonObject(with: Data(query.stdout.utf8)) as? [[String: Any]],
                array.count == 1, array[0]["description"] as? String == "a test node"
            {
                found = true
                break
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(found, "alias, description and service did not reach the other node")
        #expect(try second.ctl(["service", "delete", mesh, "http"]).status == 0)
        let missingService = try second.ctl(["service", "delete", mesh, "http"])
        #expect(missingService.status == 1)
        #expect(missingService.stderr.contains("no service 'http'"))

        let graph = try first.ctl(["graph"])
        #expect(graph.status == 0)
        let dot = try ProcessRunner.run(URL(fileURLWithPath: "/usr/bin/dot"), ["-Tsvg"], stdin: graph.stdout)
        #expect(dot.status == 0, "\(dot.stderr)")
        #expect(dot.stdout.contains("gamma"))

        // The original smegmesh names still work.
        #expect(try first.ctl(["list-meshes"]).stdout.contains(mesh))

        let left = try second.ctl(["leave", mesh])
        #expect(left.status == 0, "\(left.stderr)")
        #expect(try second.ctl(["list"]).stdout.contains("no mesh"))
    }

    @Test func errorsAreActionable() throws {
        let daemon = try DaemonHarness(name: "errors")
        defer { daemon.stop() }
        let badToken = try daemon.ctl(["join", "smeg1-notarealtoken"])
        #expect(badToken.status == 1)
        #expect(badToken.stderr.contains("invalid token"))

        let typo = try daemon.ctl(["join", "smeg1-"])
        #expect(typo.status == 1)
        #expect(typo.stderr.contains("invalid token"))

        let unknown = try daemon.ctl(["get", "nosuchmesh"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("no mesh 'nosuchmesh'"))

        let badAlias = try daemon.ctl(["create", "--alias", "Not A Label!"])
        #expect(badAlias.status == 1)
        #expect(badAlias.stderr.contains("alias"))

        let secretFromStdin = try daemon.ctl(
            ["join", "--mesh-id", "aaaaaaaaaaaaaaaa", "--bootstrap", "127.0.0.1:1", "--secret-file", "-"],
            stdin: "not base64 at all\n")
        #expect(secretFromStdin.status == 1)
        #expect(secretFromStdin.stderr.contains("secret"))
    }

    /// Needs root, to switch to another user: reported as skipped, never as passed, without it.
    @Test(.enabled(if: getuid() == 0, "needs root (runs smegctl as another user)"))
    func permissionDeniedOnTheSocketIsExplained() throws {
        let daemon = try DaemonHarness(name: "perm")
        defer { daemon.stop() }
        // The harness directory is 0700 root: another user cannot reach the socket.
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: daemon.directory.path)
        let result = try ProcessRunner.run(
            URL(fileURLWithPath: "/usr/sbin/runuser"),
            ["-u", "nobody", "--", BinaryLocator.url(of: "smegctl").path, "--socket", daemon.socket, "list"])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("permission denied on \(daemon.socket)"))
    }
}
