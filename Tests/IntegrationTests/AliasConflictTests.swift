import Foundation
import Testing

/// Two real daemons claim one alias: each node gives it to the same one member, everywhere a
/// name is shown, and says so; an alias no member could hold is refused at the door.
@Suite(.serialized) struct AliasConflictTests {
    private func members(_ daemon: DaemonHarness, _ mesh: String) throws -> [[String: Any]] {
        let text = try daemon.ctl(["get", mesh, "--json"]).stdout
        let detail = try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        return detail["members"] as? [[String: Any]] ?? []
    }

    @Test func aContestedAliasHasOneHolderOnEveryNode() throws {
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
        var holders: Set<String> = []
        for view in views {
            let holding = view.filter { $0["alias"] as? String == "web" }
            #expect(holding.count == 1)
            let holder = try #require(holding.first?["shortId"] as? String)
            holders.insert(holder)
            let other = try #require(view.first { $0["shortId"] as? String != holder })
            #expect(other["alias"] == nil)
            let conflict = try #require(other["aliasConflict"] as? [String: Any])
            #expect(conflict["alias"] as? String == "web" && conflict["heldBy"] as? String == holder)
        }
        #expect(holders.count == 1, "the two nodes gave the alias to different members")

        let hosts = try first.ctl(["hosts"]).stdout
        #expect(hosts.components(separatedBy: "web.lab.smeg").count == 2)
        #expect(try first.ctl(["status"]).stdout.contains("1 alias claim(s) void"))
        #expect(try first.ctl(["get", mesh]).stdout.contains("claims alias 'web'"))
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
