import GossipCRDT
import Testing

@testable import MeshCore

/// A join between two sessions that do not yet hold each other present must still validate
/// both addresses, or each side stays held to the reply budget and the exchange shrinks to bare
/// digests forever (the storm this suite guards against).
@Suite struct FrameV2JoinTests {
    typealias F = FrameV2Fixtures

    /// Stand-ins for the daemon's messages: a digest with a record rumor does not fit three
    /// times a bare digest's frame, so the first reply to an unvalidated address must shrink.
    static let bareDigest = [UInt8](repeating: 0xD1, count: 57)
    static let digestWithRumor = [UInt8](repeating: 0xD2, count: 500)

    /// Seals `digestWithRumor` if the budget allows, else a bare digest, as the daemon does;
    /// returns the frame and whether it had to shrink.
    static func reply(
        from session: inout FrameSession, to peer: NodeID, at address: PeerAddress, budget: ReplyBudget
    ) throws -> (frame: [UInt8], shrunk: Bool) {
        var budget = budget
        do {
            return (try session.seal(digestWithRumor, to: peer, at: address, budget: &budget), false)
        } catch .overBudget {
            return (try session.seal(bareDigest, to: peer, at: address, budget: &budget), true)
        }
    }

    /// Joiner Alice (at A) introduces herself to bootstrap Bob (at B). Alice never holds Bob
    /// present during the exchange; Bob holds Alice present from the introduction on, or not
    /// at all.
    @Test(arguments: [true, false]) func joinValidatesBothWaysWithinTwoRoundTrips(bobHoldsAlice: Bool) throws {
        var alice = F.session(F.a, seed: 1)
        var bob = F.session(F.b, seed: 2)
        if bobHoldsAlice { bob.retain(members: [F.a.nodeID]) }

        let hello = try alice.sealIntroduction(Self.bareDigest)
        let intro = try bob.open(hello, from: F.addressA)
        #expect(!intro.isSenderProven && !intro.isAddressValidated)
        #expect(bob.footprint.strangers == 0)

        // Round trip 1: Bob answers the introduction, Alice answers Bob.
        let bob1 = try Self.reply(from: &bob, to: F.a.nodeID, at: F.addressA, budget: intro.replyBudget)
        #expect(bob1.shrunk)
        let atAlice1 = try alice.open(bob1.frame, from: F.addressB)
        #expect(atAlice1.isSenderProven && !atAlice1.isAddressValidated)
        let alice1 = try Self.reply(from: &alice, to: F.b.nodeID, at: F.addressB, budget: atAlice1.replyBudget)
        #expect(alice1.shrunk)
        let atBob1 = try bob.open(alice1.frame, from: F.addressA)
        // Alice echoed the salt Bob sent her at A: A is hers, so Bob's next reply is unlimited.
        #expect(atBob1.isAddressValidated && atBob1.replyBudget.isUnlimited)
        #expect(bob.isValidated(F.addressA, for: F.a.nodeID))

        // Round trip 2: Bob's full reply echoes Alice's salt; Alice's reply is unlimited too.
        let bob2 = try Self.reply(from: &bob, to: F.a.nodeID, at: F.addressA, budget: atBob1.replyBudget)
        #expect(!bob2.shrunk)
        let atAlice2 = try alice.open(bob2.frame, from: F.addressB)
        #expect(atAlice2.isAddressValidated && atAlice2.replyBudget.isUnlimited)
        let alice2 = try Self.reply(from: &alice, to: F.b.nodeID, at: F.addressB, budget: atAlice2.replyBudget)
        #expect(!alice2.shrunk)
        #expect(try bob.open(alice2.frame, from: F.addressA).isAddressValidated)

        // Bob's record reaches Alice: what she learnt moves with Bob into the present map.
        alice.retain(members: [F.b.nodeID])
        #expect(alice.footprint.members == 1 && alice.footprint.strangers == 0)
        #expect(alice.isValidated(F.addressB, for: F.b.nodeID))
        let bob3 = try bob.seal(Self.digestWithRumor, to: F.a.nodeID, at: F.addressA)
        let atAlice3 = try alice.open(bob3, from: F.addressB)
        #expect(atAlice3.isReplayChecked && atAlice3.isAddressValidated)
        #expect(throws: FrameError.replay) { try alice.open(bob3, from: F.addressB) }
    }

    /// A non-present sender has no replay window, so a replay of its frame, even from the
    /// address it validated, gets only the amplification budget.
    @Test func aReplayedStrangerFrameIsHeldToTheBudget() throws {
        var alice = F.session(F.a, seed: 1)
        var bob = F.session(F.b, seed: 2)
        let first = try bob.seal([], to: F.a.nodeID, at: F.addressA)
        _ = try alice.open(first, from: F.addressB)
        _ = try bob.open(try alice.seal([], to: F.b.nodeID, at: F.addressB), from: F.addressA)
        let proof = try bob.seal([], to: F.a.nodeID, at: F.addressA)
        #expect(try alice.open(proof, from: F.addressB).isAddressValidated)
        let replayed = try alice.open(proof, from: F.addressB)
        #expect(!replayed.isAddressValidated && replayed.replyBudget.remainingBytes == 3 * proof.count)
    }

    /// The echo is the newest salt from the peer, not the last one to arrive.
    @Test func theEchoIsTheNewestSalt() throws {
        var alice = F.session(F.a, seed: 1)
        var bob = F.session(F.b, seed: 2)
        let older = try bob.seal([], to: F.a.nodeID, at: F.addressA)
        let newer = try bob.seal([], to: F.a.nodeID, at: F.addressA)
        _ = try alice.open(newer, from: F.addressB)
        _ = try alice.open(older, from: F.addressB)
        // Bob sent both salts to A, so either echo validates; check it is the newer one by
        // making Bob forget the older salt.
        for _ in 0..<MemberState.saltsPerAddress - 1 { _ = try bob.seal([], to: F.a.nodeID, at: F.addressA) }
        #expect(try bob.open(try alice.seal([], to: F.b.nodeID, at: F.addressB), from: F.addressA).isAddressValidated)
    }

    @Test func introductionsAndUnopenableFramesLeaveNoState() throws {
        var alice = F.session(F.a, seed: 1)
        var bob = F.session(F.b, seed: 2)
        for _ in 0..<10 { _ = try bob.open(try alice.sealIntroduction([1]), from: F.addressA) }
        var tampered = try alice.seal([2], to: F.b.nodeID, at: F.addressB)
        tampered[tampered.count - 1] ^= 1
        #expect(throws: FrameError.self) { try bob.open(tampered, from: F.addressA) }
        let forCarol = try alice.seal([3], to: F.c.nodeID, at: F.addressB)
        #expect(throws: FrameError.badPairTag) { try bob.open(forCarol, from: F.addressA) }
        #expect(bob.footprint == FrameSession.Footprint(members: 0, strangers: 0))
    }
}
