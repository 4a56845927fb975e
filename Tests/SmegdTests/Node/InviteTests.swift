import Foundation
import GossipCRDT
import Testing

@testable import MeshCore
@testable import smegd

/// Invitations and admissions across `MeshNode`s in virtual time: redeeming with the issuing
/// owner over real join frames, use counting under a race, expiry, revocation, eviction, and
/// the upgrade of a mesh made before admissions.
@Suite struct InviteTests {
    let joinerAddress = PeerAddress(ip: IPAddress("10.9.0.1")!, port: 40000)

    func mesh(_ count: Int, legacy: Bool = false) throws -> SimulatedMesh {
        try SimulatedMesh.agreeing(count, legacy: legacy)
    }

    func invitation(
        _ net: inout SimulatedMesh, from issuer: Int = 0, lifetime: Duration = .seconds(3600), uses: Int = 1,
        role: Admission.Role = .member
    ) throws -> Invitation {
        var made: Invitation?
        try net.act(issuer) { node, wall, _ in
            let (invitation, effects) = try node.invite(
                lifetime: lifetime, uses: uses, role: role, makesOwner: false, gossipPort: 7946, local: [],
                wallMillis: wall)
            made = invitation
            return effects
        }
        return try #require(made)
    }

    /// Sends `identity`'s join request for `invitation` to node `issuer`, as the joiner's
    /// socket would, and reads the answer.
    func redeem(
        _ net: inout SimulatedMesh, _ invitation: Invitation, as identity: NodeIdentity, at issuer: Int = 0,
        role: NodeRecord.Role = .peer
    ) throws -> Result<JoinMessage.Granted, JoinRefusal> {
        let nonce = Array(identity.signingKey.bytes.prefix(16))
        let request = JoinMessage.request(
            ticket: invitation.ticket, role: role, identity: identity, nonce: nonce, sentAt: net.wallMillis,
            mesh: net.mesh)
        #expect(request.count == JoinMessage.requestSize)
        let replies = net.inject(request, to: issuer, from: joinerAddress)
        let reply = try #require(replies.first, "the issuer answers")
        #expect(reply.count <= request.count, "no amplification")
        switch JoinMessage.decode(reply, mesh: net.mesh) {
        case .grant(let grant):
            let granted = try #require(
                JoinMessage.open(
                    grant, nonce: nonce, identity: identity, issuer: invitation.ticket.issuer, mesh: net.mesh))
            return .success(granted)
        case .refusal(let refusal):
            return .failure(refusal.reason)
        default:
            Issue.record("neither a grant nor a refusal")
            return .failure(.busy)
        }
    }

    @Test func aJoinerRedeemsAnInvitationAndBecomesAMember() throws {
        var net = try mesh(3)
        let invitation = try invitation(&net)
        #expect(try Invitation(invitation.text) == invitation)
        let joiner = try SimulatedMesh.identity(3)
        let granted = try redeem(&net, invitation, as: joiner).get()
        #expect(granted.secret == net.secret)
        let index = try net.add(admission: granted.admission)
        #expect(net.time(until: .seconds(10)) { $0.agree(Array(0...index)) } != nil)
        #expect(net.nodes[0].savedInvites?.invites.first?.redeemed.count == 1, "the use is saved")
        let view = net.nodes[0].core.invites(wallMillis: net.wallMillis).invites.first
        #expect(view?.usesLeft == 0 && view?.state == "used up")
    }

    /// Two nodes race for one single-use invite: exactly one is admitted; a retry by the
    /// winner (its grant was lost) gets the same admission without using anything.
    @Test func aSingleUseInviteAdmitsExactlyOneOfTwoRacers() throws {
        var net = try mesh(2)
        let invitation = try invitation(&net)
        let first = try SimulatedMesh.identity(10)
        let second = try SimulatedMesh.identity(11)
        let won = try redeem(&net, invitation, as: first).get()
        #expect(try redeem(&net, invitation, as: second) == .failure(.usedUp))
        #expect(try redeem(&net, invitation, as: first).get().admission == won.admission)
    }

    /// A fleet rolled out at once joins at once (the burst); a flood beyond it gets no answer
    /// at all, one frame at a time, until the rate refills.
    @Test func aFleetJoinsAtOnceAndAFloodIsHeldToTheRate() throws {
        var net = try mesh(2)
        let invitation = try invitation(&net, uses: 1000)
        var answered = 0
        for index in 0..<(MeshNode.joinFrameBurst + 10) {
            let identity = try SimulatedMesh.identity(20 + index)
            let nonce = Array(identity.signingKey.bytes.prefix(16))
            let request = JoinMessage.request(
                ticket: invitation.ticket, role: .peer, identity: identity, nonce: nonce, sentAt: net.wallMillis,
                mesh: net.mesh)
            answered += net.inject(request, to: 0, from: joinerAddress).isEmpty ? 0 : 1
        }
        #expect(answered == MeshNode.joinFrameBurst, "the burst is answered, the rest is not")
        net.run(for: .seconds(1))
        let identity = try SimulatedMesh.identity(250)
        let request = JoinMessage.request(
            ticket: invitation.ticket, role: .peer, identity: identity, nonce: [UInt8](repeating: 3, count: 16),
            sentAt: net.wallMillis, mesh: net.mesh)
        #expect(!net.inject(request, to: 0, from: joinerAddress).isEmpty, "the rate refills")
    }

    @Test func expiredRevokedAndEvictedAreRefusedByName() throws {
        var net = try mesh(3)
        let shortLived = try invitation(&net, lifetime: .seconds(1))
        net.run(for: .seconds(2))
        #expect(try redeem(&net, shortLived, as: SimulatedMesh.identity(20)) == .failure(.expired))

        let revoked = try invitation(&net, uses: 5)
        try net.act(0) { node, wall, now in try node.revokeInvite("\(revoked.ticket.id)", wallMillis: wall, now: now) }
        #expect(try redeem(&net, revoked, as: SimulatedMesh.identity(21)) == .failure(.revoked))

        let open = try invitation(&net, uses: 5)
        let victim = net.nodes[2].identity
        try net.act(0) { node, wall, now in
            try node.evict(victim.wireGuardPublicKey.base64, wallMillis: wall, now: now)
        }
        #expect(try redeem(&net, open, as: victim) == .failure(.evicted), "an evicted key cannot come back")

        let clientsOnly = try invitation(&net, role: .client)
        #expect(try redeem(&net, clientsOnly, as: SimulatedMesh.identity(22)) == .failure(.roleNotAllowed))
        #expect((try? redeem(&net, clientsOnly, as: SimulatedMesh.identity(22), role: .client).get()) != nil)
    }

    /// Only the issuer redeems its tickets; another owner's node does not know them.
    @Test func onlyTheIssuerRedeems() throws {
        var net = try mesh(3)
        let second = net.nodes[1].identity.wireGuardPublicKey.base64
        try net.act(0) { node, wall, now in try node.addOwner(second, wallMillis: wall, now: now) }
        net.run(for: .seconds(2))
        let invitation = try invitation(&net, from: 1)
        #expect(try redeem(&net, invitation, as: SimulatedMesh.identity(30), at: 0) == .failure(.unknownInvite))
        #expect((try? redeem(&net, invitation, as: SimulatedMesh.identity(30), at: 1).get()) != nil)
    }

    /// The founder's machine is gone; a second owner evicts a member (rotating the secret) and
    /// invites a new node, which redeems with it, gets the current secret and becomes a member
    /// everywhere, although its own ledger does not know yet that its issuer is an owner.
    @Test func aSecondOwnersInviteeJoinsAfterTheFounderIsGone() throws {
        var net = try mesh(4)
        let second = net.nodes[1].identity.wireGuardPublicKey.base64
        try net.act(0) { node, wall, now in try node.addOwner(second, wallMillis: wall, now: now) }
        net.run(for: .seconds(2))
        net.kill(0)
        net.run(for: .seconds(5))
        let victim = net.nodes[3].identity.wireGuardPublicKey.base64
        try net.act(1) { node, wall, now in try node.evict(victim, wallMillis: wall, now: now) }
        net.run(for: .seconds(1))
        let invitation = try invitation(&net, from: 1)
        let granted = try redeem(&net, invitation, as: SimulatedMesh.identity(4), at: 1).get()
        #expect(granted.secret == net.nodes[1].core.secret, "the current, rotated secret")
        let index = try net.add(admission: granted.admission, secret: granted.secret, bootstrap: 1)
        #expect(net.time(until: .seconds(10)) { $0.agree([1, 2, index]) } != nil)
    }

    /// A node with the mesh secret but no admission (an old token, a stolen secret) never
    /// becomes a member anywhere.
    @Test func aRecordWithoutAdmissionIsRefusedEverywhere() throws {
        var net = try mesh(3)
        let stranger = try net.add(admitted: false)
        net.run(for: .seconds(5))
        let id = net.nodes[stranger].identity.nodeID
        #expect((0..<3).allSatisfy { !net.present(at: $0).contains(id) })
        let agreed = net.agree([0, 1, 2])
        #expect(agreed)
        #expect((0..<3).allSatisfy { net.nodes[$0].core.engine.rejections[.invalid] > 0 })
    }

    /// A mesh made before admissions: when its founder first runs this version, it admits every
    /// member it knows and requires admissions; nobody present is shut out, and from then on a
    /// node without an admission is refused.
    @Test func theUpgradeAdmitsEveryMemberThenRequiresAdmissions() throws {
        var net = try mesh(4, legacy: true)
        #expect((0..<4).allSatisfy { net.nodes[$0].core.ledger?.requiresAdmissions == false })
        try net.restart(0)
        #expect(
            net.time(until: .seconds(5)) { net in
                (0..<4).allSatisfy { net.nodes[$0].core.ledger?.requiresAdmissions == true }
            } != nil)
        #expect(net.nodes[0].core.ledger?.admitted.count == 4)
        // A restarted founder takes a few epochs to settle the leader line again (as any
        // restarted member does); nobody is pruned for want of an admission meanwhile.
        #expect(net.time(until: .seconds(15)) { $0.agree([0, 1, 2, 3]) } != nil, "every member stays")
        #expect(net.prunes == 0)
        net.legacy = false
        let late = try net.add(admitted: false)
        net.run(for: .seconds(5))
        #expect((0..<4).allSatisfy { !net.present(at: $0).contains(net.nodes[late].identity.nodeID) })
    }

    @Test func invitationTextRoundTripsAndRefusesForgeries() throws {
        var net = try mesh(1)
        let invitation = try invitation(&net, uses: 3, role: .client)
        let parsed = try Invitation("  " + invitation.text.uppercased() + "\n")
        #expect(parsed == invitation && parsed.ticket.uses == 3 && parsed.ticket.role == .client)
        #expect(!invitation.text.contains(Data(net.secret.bytes).base64EncodedString()))
        // A ticket signed by someone else than it names does not verify.
        var body = Array(invitation.ticket.bytes)
        body[40] ^= 1
        #expect(throws: InviteTicketError.badSignature) { try InviteTicket(bytes: body, mesh: net.mesh) }
        #expect(throws: InviteTokenError.self) { try Invitation(InviteToken.prefix + "aaaa") }
    }
}
