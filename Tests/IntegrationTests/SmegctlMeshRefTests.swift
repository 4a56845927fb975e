import Foundation
import Testing

/// Mesh names as well as ids, joining without a token, `graph MESH`, and every hidden legacy
/// verb name, each run as the real smegctl against real control-plane-only daemons.
@Suite(.serialized) struct SmegctlMeshRefTests {
    private func object(_ text: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not JSON: \(text)")
    }

    private func array(_ text: String) throws -> [[String: Any]] {
        try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]], "not JSON: \(text)")
    }

    /// Polls `query` on `daemon` until one member matches and `check` accepts it.
    private func queryUntil(
        _ daemon: DaemonHarness, _ arguments: [String], _ check: ([String: Any]) -> Bool
    ) throws -> Bool {
        for _ in 0..<100 {
            let result = try daemon.ctl(arguments)
            if result.status == 0, let members = try? array(result.stdout), members.count == 1, check(members[0]) {
                return true
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return false
    }

    @Test func everyVerbTakesTheMeshName() throws {
        let daemon = try DaemonHarness(name: "names")
        defer { daemon.stop() }
        let (mesh, _) = try daemon.create(["create", "--name", "office", "--alias", "one"])

        let detail = try daemon.ctl(["get", "office", "--json"])
        #expect(detail.status == 0, "\(detail.stderr)")
        #expect((try object(detail.stdout)["mesh"] as? [String: Any])?["meshId"] as? String == mesh)
        let invite = try daemon.ctl(["invite", "office"])
        #expect(invite.status == 0, "\(invite.stderr)")
        #expect(invite.stdout.hasPrefix("smeg2-"))
        #expect(try daemon.ctl(["alias", "office", "two"]).status == 0)
        #expect(try daemon.ctl(["describe", "office", "by name"]).status == 0)
        #expect(try daemon.ctl(["service", "set", "office", "http", "80"]).status == 0)
        let query = try array(try daemon.ctl(["query", "office", "--service", "http=80"]).stdout)
        #expect(query.count == 1)
        #expect(query.first?["alias"] as? String == "two")
        #expect(query.first?["description"] as? String == "by name")
        #expect(try daemon.ctl(["service", "delete", "office", "http"]).status == 0)
        let graph = try daemon.ctl(["graph", "office"])
        #expect(graph.status == 0, "\(graph.stderr)")
        #expect(graph.stdout.contains("two"))

        // A second mesh with the same name: the name no longer says which, the id still does.
        let (other, _) = try daemon.create(["create", "--name", "office"])
        for arguments in [["get", "office"], ["invite", "office"], ["alias", "office", "x"], ["leave", "office"]] {
            let ambiguous = try daemon.ctl(arguments)
            #expect(ambiguous.status == 1, "\(arguments) should fail")
            #expect(ambiguous.stderr.contains("2 meshes are named 'office'"), "\(ambiguous.stderr)")
            #expect(ambiguous.stderr.contains("use the mesh id"), "\(ambiguous.stderr)")
        }
        #expect(try daemon.ctl(["get", mesh]).status == 0)
        let unknown = try daemon.ctl(["get", "nosuchname"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("no mesh 'nosuchname'"))

        // Once one of them is gone, the name is unique again and leave by name works.
        #expect(try daemon.ctl(["leave", other]).status == 0)
        let left = try daemon.ctl(["leave", "office"])
        #expect(left.status == 0, "\(left.stderr)")
        #expect(try daemon.ctl(["list"]).stdout.contains("no mesh"))
    }

    /// Real daemons: an invitation admits exactly as many nodes as it says, the issuing owner
    /// names what went wrong, the secret never leaves the owner but sealed to a joiner, and a
    /// node that holds the secret without an admission never meets the mesh.
    @Test func invitationsAdmitAsManyAsTheySay() throws {
        let first = try DaemonHarness(name: "inviter")
        let second = try DaemonHarness(name: "joiner")
        let third = try DaemonHarness(name: "latecomer")
        let fourth = try DaemonHarness(name: "secretholder")
        defer {
            for daemon in [first, second, third, fourth] { daemon.stop() }
        }
        let (mesh, _) = try first.create(["create", "--alias", "inviter"])
        let made = try first.ctl(["invite", mesh, "--json"])
        #expect(made.status == 0, "\(made.stderr)")
        let invite = try object(made.stdout)
        let token = try #require(invite["token"] as? String)
        #expect(token.hasPrefix("smeg2-"))
        #expect(invite["secret"] == nil, "an invitation carries no secret")
        #expect((invite["invite"] as? [String: Any])?["uses"] as? Int == 1)
        #expect(invite["bootstrap"] as? [String] == ["127.0.0.1:\(first.gossipPort)"])
        let secret = try first.ctl(["invite", mesh, "--secret"])
        #expect(secret.status == 1 && secret.stderr.contains("invitations carry no secret"), "\(secret.stderr)")

        let joined = try second.ctl(["join", "--alias", "joiner", token])
        #expect(joined.status == 0, "\(joined.stderr)")
        #expect(try first.waitForMembers(mesh, 2))
        #expect(try second.waitForMembers(mesh, 2))
        let again = try third.ctl(["join", token])
        #expect(again.status == 1 && again.stderr.contains("used up"), "\(again.stderr)")

        let listed = try object(try first.ctl(["invites", mesh, "--json"]).stdout)
        let entries = try #require(listed["invites"] as? [[String: Any]])
        let madeID = try #require((invite["invite"] as? [String: Any])?["id"] as? String)
        let single = try #require(entries.first { $0["id"] as? String == madeID })
        #expect(single["state"] as? String == "used up")
        let revocable = try object(try first.ctl(["invite", mesh, "--uses", "3", "--json"]).stdout)
        let id = try #require((revocable["invite"] as? [String: Any])?["id"] as? String)
        #expect(try first.ctl(["invite", "revoke", mesh, id]).status == 0)
        let revoked = try third.ctl(["join", try #require(revocable["token"] as? String)])
        #expect(revoked.status == 1 && revoked.stderr.contains("revoked"), "\(revoked.stderr)")

        // The joiner's stored secret, used by a node that has no admission: it is refused.
        let stored = try String(
            contentsOfFile: second.directory.appendingPathComponent("state/meshes/\(mesh)/mesh.json").path,
            encoding: .utf8)
        let storedSecret = try #require(try object(stored)["secret"] as? String)
        let stranger = try fourth.ctl(
            ["join", "--mesh-id", mesh, "--secret-file", "-", "--bootstrap", "127.0.0.1:\(first.gossipPort)"],
            stdin: storedSecret)
        #expect(stranger.status == 0, "\(stranger.stderr)")
        #expect(try !first.waitForMembers(mesh, 3, seconds: 3), "a secret without an admission admits nobody")
    }

    @Test func graphOfOneMesh() throws {
        let daemon = try DaemonHarness(name: "graph")
        defer { daemon.stop() }
        let (kept, _) = try daemon.create(["create", "--name", "kept", "--alias", "keeper"])
        let (other, _) = try daemon.create(["create", "--name", "other", "--alias", "elsewhere"])
        for reference in [kept, "kept"] {
            let graph = try daemon.ctl(["graph", reference])
            #expect(graph.status == 0, "\(graph.stderr)")
            #expect(graph.stdout.contains("keeper"))
            #expect(!graph.stdout.contains("elsewhere"))
            #expect(!graph.stdout.contains(other))
            let svg = try ProcessRunner.run(URL(fileURLWithPath: "/usr/bin/dot"), ["-Tsvg"], stdin: graph.stdout)
            #expect(svg.status == 0, "\(svg.stderr)")
        }
        let json = try object(try daemon.ctl(["graph", "kept", "--json"]).stdout)
        #expect((json["meshes"] as? [Any])?.count == 1)
        let missing = try daemon.ctl(["graph", "absent"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no mesh called 'absent'"))
    }

    /// The original smegmesh verb names, each once, hidden from help but working.
    @Test func everyLegacyVerbName() throws {
        let first = try DaemonHarness(name: "legacy1")
        let second = try DaemonHarness(name: "legacy2")
        defer {
            first.stop()
            second.stop()
        }
        let (mesh, token) = try first.create(["new-mesh", "--name", "legacy", "--alias", "old"])
        let joined = try second.ctl(["join-mesh", "--alias", "older", token])
        #expect(joined.status == 0, "\(joined.stderr)")
        #expect(joined.stdout.contains("Joined mesh \(mesh)"))
        #expect(try first.waitForMembers(mesh, 2))
        #expect(try second.ctl(["list-meshes"]).stdout.contains(mesh))

        #expect(try second.ctl(["put-alias", mesh, "renamed"]).status == 0)
        #expect(try second.ctl(["put-description", mesh, "legacy verbs"]).status == 0)
        #expect(try second.ctl(["set-service", mesh, "ssh", "22"]).status == 0)
        #expect(
            try queryUntil(first, ["query-mesh", mesh, "--alias", "renamed"]) { member in
                member["description"] as? String == "legacy verbs"
                    && (member["services"] as? [String: String]) == ["ssh": "22"]
            }, "alias, description and service set with the legacy verbs did not arrive")
        #expect(try second.ctl(["delete-service", mesh, "ssh"]).status == 0)
        #expect(
            try queryUntil(first, ["query-mesh", mesh, "--alias", "renamed"]) { member in
                (member["services"] as? [String: String])?.isEmpty == true
            }, "the service deleted with delete-service is still advertised")

        let graph = try first.ctl(["get-graph", mesh])
        #expect(graph.status == 0, "\(graph.stderr)")
        #expect(graph.stdout.hasPrefix("graph smegmesh {"))
        #expect(graph.stdout.contains("renamed"))

        let left = try second.ctl(["leave-mesh", mesh])
        #expect(left.status == 0, "\(left.stderr)")
        #expect(try second.ctl(["list-meshes"]).stdout.contains("no mesh"))
        #expect(try first.waitForMembers(mesh, 1), "the legacy leave did not reach the other node")

        let help = try first.ctl(["--help"])
        for name in ["new-mesh", "join-mesh", "get-graph", "list-meshes", "leave-mesh", "query-mesh"] {
            #expect(!help.stdout.contains(name), "\(name) should be hidden from help")
        }
    }
}
