import Foundation
import Testing

@testable import MeshCore

/// Seeds of the owners' fuzz targets: every kind of owner statement, owner message and ticket
/// (FuzzOwners), and join frames and an invitation (FuzzJoin), made by the real encoders with
/// the identities those targets use.
extension FuzzCorpusTests {
    /// FuzzOwners' mesh: the one the identity of seed 0…31 founds with salt a0…af.
    static let ownersMesh = MeshID.committing(to: Fixtures.identity1.signingKey, salt: Array(0xA0..<0xB0))!

    static func ownerStatements() -> [(String, OwnerStatement)] {
        let other = Fixtures.identity2
        let invite = InviteID(bytes: Array(0x10..<0x20))!
        let decisions: [(String, OwnerStatement.Decision)] = [
            ("add-owner", .addOwner(other.signingKey)), ("remove-owner", .removeOwner(other.signingKey)),
            ("evict", .evict(other.nodeID)), ("revoke-invite", .revokeInvite(invite)),
            ("admit", .admit(Admission(member: other.signingKey, role: .client, invite: invite))),
            ("require-admissions", .requireAdmissions),
            ("rotate", .rotate(generation: 2, commitment: Array(repeating: 0xC3, count: 32))),
            (
                "settings",
                .settings(
                    SettingsUpdate(
                        version: 1, name: "lab", policy: RoutePolicy(allowedPrefixes: [IPPrefix("10.0.0.0/8")!]))!)
            ),
            (
                "admit-ipv4",
                .admit(
                    Admission(member: other.signingKey, role: .member, invite: invite, ipv4: IPv4Address(100, 64, 0, 7))
                )
            ),
            (
                "tags",
                .tags(
                    TagAssignment(member: other.nodeID, version: 2, tags: [AccessTag("laptop")!, AccessTag("ops")!])!)
            ),
            ("access-policy", .accessPolicy(AccessPolicyUpdate(version: 3, policy: AccessPolicyCodecTests.example)!)),
        ]
        return decisions.map {
            ($0.0, OwnerStatement.sign($0.1, by: Fixtures.identity1, at: 1_800_000_000_000, mesh: ownersMesh))
        }
    }

    static func ownerSeeds() throws -> [Seed] {
        var seeds: [Seed] = []
        let statements = ownerStatements()
        for (name, statement) in statements {
            seeds.append(Seed(target: "FuzzOwners", name: "statement-\(name)", bytes: statement.bytes))
        }
        seeds.append(
            Seed(
                target: "FuzzOwners", name: "message-statements",
                bytes: OwnerMessage.statements(statements.map(\.1), wantsReply: true).encoded()))
        seeds.append(
            Seed(target: "FuzzOwners", name: "message-summary", bytes: OwnerMessage.summary(0x1234, count: 8).encoded())
        )
        let ticket = InviteTicket.sign(
            id: InviteID(bytes: Array(0x10..<0x20))!, expiresAt: 1_800_086_400_000, uses: 3, role: .member,
            makesOwner: true, by: Fixtures.identity1, mesh: ownersMesh)
        seeds.append(Seed(target: "FuzzOwners", name: "ticket", bytes: ticket.bytes))

        // FuzzJoin decodes frames of mesh 00…09: a ticket of that mesh rides in its requests.
        let joinTicket = InviteTicket.sign(
            id: InviteID(bytes: Array(0x20..<0x30))!, expiresAt: 1_800_086_400_000, uses: 1, role: .member,
            makesOwner: false, by: Fixtures.identity1, mesh: Fixtures.mesh1)
        let nonce = [UInt8](repeating: 5, count: 16)
        seeds.append(
            Seed(
                target: "FuzzJoin", name: "request",
                bytes: JoinMessage.request(
                    ticket: joinTicket, role: .client, identity: Fixtures.identity2, nonce: nonce,
                    sentAt: 1_800_000_000_000, mesh: Fixtures.mesh1)))
        seeds.append(
            Seed(
                target: "FuzzJoin", name: "refusal",
                bytes: JoinMessage.refusal(.usedUp, nonce: nonce, responder: Fixtures.identity1, mesh: Fixtures.mesh1)))
        seeds.append(
            Seed(
                target: "FuzzJoin", name: "secret-request",
                bytes: JoinMessage.secretRequest(
                    generation: 1, admission: statements[4].1.bytes, identity: Fixtures.identity2, nonce: nonce,
                    sentAt: 1_800_000_000_000, mesh: Fixtures.mesh1)))
        let charter = try MeshCharter.sign(
            owner: Fixtures.identity1, salt: Array(0xA0..<0xB0), name: "home", policy: .default,
            ipv4Prefix: IPPrefix("100.64.0.0/16"))
        let invitation = try Invitation(charter: charter, ticket: ticket, bootstrap: tokenEndpoints)
        seeds.append(Seed(target: "FuzzJoin", name: "invitation", bytes: Array(invitation.text.utf8)))
        return seeds
    }

    /// The decoders FuzzOwners and FuzzJoin call; throws (or records) when a seed does not
    /// decode with them.
    static func checkOwnerDecodes(_ target: String, _ name: String, _ bytes: [UInt8]) throws {
        switch target {
        case "FuzzOwners":
            let decodes =
                (try? OwnerMessage.decode(bytes, mesh: ownersMesh)) != nil
                || (try? OwnerStatement(bytes: bytes, mesh: ownersMesh)) != nil
                || (try? InviteTicket(bytes: bytes, mesh: ownersMesh)) != nil
            #expect(decodes, "\(name) decodes as no owner message, statement or ticket")
        default:
            let decodes =
                JoinMessage.decode(bytes, mesh: Fixtures.mesh1) != nil
                || (try? Invitation(String(decoding: bytes, as: UTF8.self))) != nil
            #expect(decodes, "\(name) decodes as no join frame or invitation")
        }
    }
}
