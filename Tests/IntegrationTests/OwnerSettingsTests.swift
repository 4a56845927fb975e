import Foundation
import Testing

@testable import MeshCore

/// The owner's charter end to end through the real binaries: `create` signs, invitations carry
/// the charter, only owners invite, a secret holder's token with other settings is refused and
/// one without a charter warns.
@Suite(.serialized) struct OwnerSettingsTests {
    private func json(_ text: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// A secret holder's token: the mesh secret, exits allowed, beside the unchanged charter.
    private func widened(_ invitation: Invitation, secret: MeshSecret) -> String {
        var writer = ByteWriter()
        writer.writeBytes(invitation.mesh.bytes)
        writer.writeBytes(secret.bytes)
        writer.writeCount(invitation.bootstrap.count, limit: InviteToken.maxEndpoints)
        for endpoint in invitation.bootstrap { writer.writeEndpoint(endpoint) }
        MeshSettingsCodec.write(name: invitation.charter.name, policy: RoutePolicy(allowExitNodes: true), to: &writer)
        MeshSettingsCodec.write(charter: invitation.charter, to: &writer)
        return InviteToken.prefix + Base32.encode(writer.bytes + InviteToken.checksum(writer.bytes[...]))
    }

    private func storedSecret(_ daemon: DaemonHarness, _ mesh: String) throws -> MeshSecret {
        let path = daemon.directory.appendingPathComponent("state/meshes/\(mesh)/mesh.json").path
        let stored = try json(try String(contentsOfFile: path, encoding: .utf8))
        let text = try #require(stored["secret"] as? String)
        let data = try #require(Data(base64Encoded: text))
        return try #require(MeshSecret(bytes: Array(data)))
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
        let invitation = try Invitation(text)
        let charter = invitation.charter
        #expect(summary["owner"] as? String == charter.owner.base64)

        let joined = try member.ctl(["join", text])
        #expect(joined.status == 0, "\(joined.stderr)")
        #expect(!joined.stderr.contains("warning"))
        #expect(
            try member.ctl(["get", mesh]).stdout.contains("Settings signed by the mesh's owner \(charter.owner.base64)")
        )
        let notOwner = try member.ctl(["invite", mesh])
        #expect(notOwner.status == 1 && notOwner.stderr.contains("is not an owner of mesh"), "\(notOwner.stderr)")
        let invited = try json(try owner.ctl(["invite", mesh, "--json"]).stdout)
        #expect(try Invitation(try #require(invited["token"] as? String)).charter == charter)

        // What a member holding the secret could write: refused for its settings.
        let secret = try storedSecret(member, mesh)
        let forged = try other.ctl(["join", widened(invitation, secret: secret)])
        #expect(forged.status == 1)
        #expect(forged.stderr.contains("this token's settings are not signed by the mesh's owner"), "\(forged.stderr)")

        // The same mesh without its charter: accepted, with a warning the operator sees.
        let stripped = try InviteToken(
            mesh: invitation.mesh, secret: secret, bootstrap: invitation.bootstrap, name: charter.name,
            policy: charter.policy)
        let unsigned = try other.ctl(["join", stripped.text])
        #expect(unsigned.status == 0, "\(unsigned.stderr)")
        #expect(unsigned.stderr.contains("warning: the name and route policy of mesh \(mesh) are not signed"))
        #expect(try other.ctl(["status"]).stdout.contains("unsigned"))
    }
}
