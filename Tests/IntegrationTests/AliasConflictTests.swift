import Foundation
import Testing

/// Two real daemons claim one alias: on each node neither holds it, anywhere a name is shown,
/// and both claims are listed as a contest; an alias no member could hold is refused at the door.
@Suite(.serialized) struct AliasConflictTests {
    private func members(_ daemon: DaemonHarness, _ mesh: String) throws -> [[String: Any]] {
        let text = try daemon.ctl(["get", mesh, "--json"]).stdout
        let detail = try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        return detail["members"] as? [[String: Any]] ?? []
    }

    @Test func aContestedAliasNamesNeitherClaimantOnEitherNode() throws {
        let first = try DaemonHarness(name: "alias-a")
        let second = try DaemonHarness(name: "alias-b")
        defer {
            first.stop()
            second.stop()
        }
        let created = try first.ctl(["create", "--alias", "web", "--name", "lab", "--json"])
        #expect(created.status == 0, "\(created.stderr)")
        let createdJSON = try #require(JSONSerialization.jsonObject(with: Data(created.stdout.utf8)) as? [String: Any])
        let token = try #require(createdJSON["token"] as? String)
        let mesh = try #require((createdJSON["mesh"] as? [String: Any])?["meshId"] as? String)
        let joined = try second.ctl(["join", "--alias", "web", token])
        #expect(joined.status == 0, "\(joined.stderr)")

        var views: [[[String: Any]]] = []
        for _ in 0..<50 {
            views = try [first, second].map { try members($0, mesh) }
            if views.allSatisfy({ $0.count == 2 }) { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        try #require(views.allSatisfy { $0.count == 2 })
        for view in views {
            let ids = view.compactMap { $0["shortId"] as? String }
            #expect(ids.count == 2)
            for member in view {
                let shortId = try #require(member["shortId"] as? String)
                #expect(member["alias"] == nil, "\(shortId) holds the contested alias")
                let conflict = try #require(member["aliasConflict"] as? [String: Any])
                #expect(conflict["alias"] as? String == "web")
                #expect(conflict["contestedWith"] as? [String] == ids.filter { $0 != shortId })
                #expect(conflict["heldBy"] == nil)
            }
        }

        for daemon in [first, second] {
            let hosts = try daemon.ctl(["hosts"]).stdout
            #expect(!hosts.contains("web.lab.smeg"))
            #expect(try daemon.ctl(["status"]).stdout.contains("2 alias claim(s) void"))
            let listed = try daemon.ctl(["get", mesh]).stdout
            #expect(listed.components(separatedBy: "claims alias 'web', which is contested by").count == 3)
        }
    }

    @Test func anAliasShapedLikeAShortIdIsRefused() throws {
        let daemon = try DaemonHarness(name: "alias-shape")
        defer { daemon.stop() }
        let refused = try daemon.ctl(["create", "--alias", "deadbeef"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("short id"))
        let created = try daemon.ctl(["create", "--alias", "fine", "--json"])
        let json = try #require(JSONSerialization.jsonObject(with: Data(created.stdout.utf8)) as? [String: Any])
        let mesh = try #require((json["mesh"] as? [String: Any])?["meshId"] as? String)
        let renamed = try daemon.ctl(["alias", mesh, "0badcafe"])
        #expect(renamed.status == 1)
        #expect(renamed.stderr.contains("short id"))
        #expect(try members(daemon, mesh).first?["alias"] as? String == "fine")
    }
}
