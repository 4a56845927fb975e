import Foundation
import Testing

/// Access control through the real binaries, two control-plane-only daemons of one mesh: the
/// owner tags members and signs a policy from a file, the member sees both within seconds,
/// `acl check` explains flows with its exit status, and every mistake is a usage error that
/// names its line and signs nothing. (Enforcement needs tunnels: the namespace stage.)
@Suite(.serialized) struct AccessControlTests {
    static let policy = """
        # laptops reach the servers' ssh and web ports, not each other
        allow tag:laptop -> tag:server tcp/22,443 icmp
        allow * -> alpha udp/53
        """

    static func object(_ text: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not JSON: \(text)")
    }

    /// Waits up to `seconds` until `daemon`'s `acl MESH --json` satisfies `done`.
    static func wait(
        _ daemon: DaemonHarness, _ mesh: String, seconds: Int = 10, _ done: ([String: Any]) -> Bool
    ) throws -> Bool {
        for _ in 0..<(seconds * 10) {
            let shown = try daemon.ctl(["acl", mesh, "--json"])
            if shown.status == 0, let view = try? object(shown.stdout), done(view) { return true }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return false
    }

    @Test func ownersTagAndSignMembersSeeItAndCheckExplains() throws {
        let owner = try DaemonHarness(name: "acl-owner")
        let member = try DaemonHarness(name: "acl-member")
        defer {
            owner.stop()
            member.stop()
        }
        let (mesh, token) = try owner.create(["create", "--alias", "alpha", "--name", "lab"])
        let joined = try member.ctl(["join", "--alias", "beta", token])
        #expect(joined.status == 0, "\(joined.stderr)")
        #expect(try owner.waitForMembers(mesh, 2))
        #expect(try member.waitForMembers(mesh, 2))

        let before = try member.ctl(["acl", mesh])
        #expect(before.status == 0 && before.stdout.contains("has no access policy: every member reaches every other"))
        let open = try member.ctl(["acl", "check", mesh, "beta", "alpha", "22"])
        #expect(open.status == 0 && open.stdout.contains("ALLOWED") && open.stdout.contains("no access policy"))

        // Only owners decide.
        let refused = try member.ctl(["tag", mesh, "beta", "server"])
        #expect(refused.status == 1 && refused.stderr.contains("is not an owner of mesh"), "\(refused.stderr)")
        let notOwner = try member.ctl(["acl", "set", mesh, "-"], stdin: Self.policy)
        #expect(notOwner.status == 1 && notOwner.stderr.contains("is not an owner"), "\(notOwner.stderr)")

        #expect(try owner.ctl(["tag", mesh, "beta", "laptop"]).stdout.contains("beta carries laptop now."))
        #expect(try owner.ctl(["tag", mesh, "alpha", "server", "tag:dns"]).status == 0)
        let badTag = try owner.ctl(["tag", mesh, "alpha", "Server"])
        #expect(badTag.status == 2 && badTag.stderr.contains("'Server' is not a tag"), "\(badTag.stderr)")

        // Mistakes: a usage error naming the file, line and column; nothing signed.
        let file = owner.directory.appendingPathComponent("policy.acl").path
        try "allow * -> *\nallow tag:laptop -> tag:server tcp/22,,443\nallow * => *\n".write(
            toFile: file, atomically: true, encoding: .utf8)
        let syntax = try owner.ctl(["acl", "set", mesh, file])
        #expect(syntax.status == 2, "\(syntax.stderr)")
        #expect(syntax.stderr.contains("\(file): line 2, column 39: expected a port after ','"), "\(syntax.stderr)")
        #expect(syntax.stderr.contains("\(file): line 3, column 9: expected '->' after the source"))
        let unknown = try owner.ctl(["acl", "set", mesh, "-"], stdin: "allow * -> *\nallow gamma -> alpha\n")
        #expect(unknown.status == 2, "\(unknown.stderr)")
        #expect(
            unknown.stderr.contains("<stdin>: line 2, column 7: no member 'gamma' is known here"), "\(unknown.stderr)")
        #expect(try Self.object(try owner.ctl(["acl", mesh, "--json"]).stdout)["isDefault"] as? Bool == true)

        try Self.policy.write(toFile: file, atomically: true, encoding: .utf8)
        let signed = try owner.ctl(["acl", "set", mesh, file])
        #expect(signed.status == 0 && signed.stdout.contains("is version 1 (2 rules)"), "\(signed.stderr)")

        // The member applies it from the ledger gossip.
        #expect(
            try Self.wait(member, mesh) { view in
                view["version"] as? Int == 1 && (view["tagged"] as? [Any])?.count == 2
            })
        let shown = try member.ctl(["acl", mesh])
        #expect(shown.stdout.contains("version 1 signed by alpha"), "\(shown.stdout)")
        #expect(shown.stdout.contains("allow tag:laptop -> tag:server tcp/22,443 icmp\n"))
        #expect(shown.stdout.contains("#   beta ("), "\(shown.stdout)")
        #expect(shown.stdout.contains("): dns, server"))
        // What `acl` prints is a file `acl set` reads back to the same policy: nothing to sign.
        let again = try owner.ctl(["acl", "set", mesh, "-"], stdin: try owner.ctl(["acl", mesh]).stdout)
        #expect(again.status == 0 && again.stdout.contains("is version 1 (2 rules)"), "\(again.stdout)\(again.stderr)")

        let allowed = try member.ctl(["acl", "check", mesh, "beta", "alpha", "443"])
        #expect(allowed.status == 0, "\(allowed.stdout)\(allowed.stderr)")
        #expect(allowed.stdout.contains("ALLOWED: beta (") && allowed.stdout.contains("tcp/443: rule 1 allows it"))
        let denied = try member.ctl(["acl", "check", mesh, "alpha", "beta"])
        #expect(denied.status == 1, "\(denied.stdout)")
        #expect(denied.stdout.contains("DENIED") && denied.stdout.contains("no rule allows it"))
        #expect(denied.stdout.contains("may open to alpha (") && denied.stdout.contains("tcp/22,443 udp/53 icmp"))
        let dns = try owner.ctl(["acl", "check", mesh, "beta", "alpha", "53", "--proto", "udp", "--json"])
        #expect(try Self.object(dns.stdout)["ruleNumber"] as? Int == 2)
        let badPort = try owner.ctl(["acl", "check", mesh, "beta", "alpha", "70000"])
        #expect(badPort.status == 2 && badPort.stderr.contains("port 70000 is not a port"), "\(badPort.stderr)")

        let table = try member.ctl(["get", mesh])
        #expect(table.stdout.contains("TAGS") && table.stdout.contains("dns,server"), "\(table.stdout)")
        #expect(try owner.ctl(["untag", mesh, "beta", "laptop"]).stdout.contains("beta carries no tags now."))
        #expect(
            try Self.wait(member, mesh) { view in (view["tagged"] as? [Any])?.count == 1 })
    }
}
