import Foundation
import Testing

@testable import MeshCore

/// The owner's charter end to end through the real binaries: `create` signs, members' invites
/// carry the charter, a token with other settings is refused and one without a charter warns.
@Suite(.serialized) struct OwnerSettingsTests {
    private func json(_ text: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// `token` with exits allowed beside its unchanged charter, as a secret holder could write it.
    private func widened(_ token: InviteToken) throws -> String {
        let charter = try #require(token.charter)
        var writer = ByteWriter()
        writer.writeBytes(token.mesh.bytes)
        writer.writeBytes(token.secret.bytes)
        writer.writeCount(token.bootstrap.count, limit: InviteToken.maxEndpoints)
        for endpoint in token.bootstrap { writer.writeEndpoint(endpoint) }
        MeshSettingsCodec.write(name: token.name, policy: RoutePolicy(allowExitNodes: true), to: &writer)
        MeshSettingsCodec.write(charter: charter, to: &writer)
        return InviteToken.prefix + Base32.encode(writer.bytes + InviteToken.checksum(writer.bytes[...]))
    }

    @Test func createSignsJoinChecksAndMembersInviteWithTheCharter() throws {
        let owner = try DaemonHarness(name: "owner")
        let member = try DaemonHarness(name: "member")
        let other = try DaemonHarness(name: "other")
        defer {
            owner.stop()
            member.stop()
            other.stop()
        }
        let created = try owner.ctl(["create", "--name", "lab", "--json"])
        #expect(created.status == 0, "\(created.stderr)")
        let createdJSON = try json(created.stdout)
        let text = try #require(createdJSON["token"] as? String)
        let summary = try #require(createdJSON["mesh"] as? [String: Any])
        let mesh = try #require(summary["meshId"] as? String)
        #expect(summary["settingsSigned"] as? Bool == true)
        let token = try InviteToken(text)
        let charter = try #require(token.charter)
        #expect(summary["owner"] as? String == charter.owner.base64)

        let forged = try member.ctl(["join", try widened(token)])
        #expect(forged.status == 1)
        #expect(forged.stderr.contains("this token's settings are not signed by the mesh's owner"))
        #expect(forged.stderr.contains("ask an owner for a new token"))

        let joined = try member.ctl(["join", text])
        #expect(joined.status == 0, "\(joined.stderr)")
        #expect(!joined.stderr.contains("warning"))
        #expect(
            try member.ctl(["get", mesh]).stdout.contains("Settings signed by the mesh's owner \(charter.owner.base64)")
        )
        let invited = try json(try member.ctl(["invite", mesh, "--json"]).stdout)
        #expect(try InviteToken(try #require(invited["token"] as? String)).charter == charter)

        // The same mesh without its charter: accepted, with a warning the operator sees.
        let stripped = try InviteToken(
            mesh: token.mesh, secret: token.secret, bootstrap: token.bootstrap, name: token.name, policy: token.policy)
        let unsigned = try other.ctl(["join", stripped.text])
        #expect(unsigned.status == 0, "\(unsigned.stderr)")
        #expect(unsigned.stderr.contains("warning: the name and route policy of mesh \(mesh) are not signed"))
        #expect(try other.ctl(["status"]).stdout.contains("unsigned"))
    }
}
