import GossipCRDT
import Testing

@testable import MeshCore

/// Short frames (docs/protocol.md, "Short frames"): a sender names itself by 8 bytes only to a
/// peer that just proved it holds it, and never loses more than a few frames to one that no
/// longer does.
@Suite struct FrameShortSenderTests {
    typealias F = FrameV2Fixtures
    var alice = F.session(F.a, seed: 1)
    var bob = F.session(F.b, seed: 2)
    var carol = F.session(F.c, seed: 3)
    let message: [UInt8] = Array("hello, mesh".utf8)
    static let everyone: Set = [F.a.nodeID, F.b.nodeID, F.c.nodeID]

    init() {
        alice.retain(members: Self.everyone)
        bob.retain(members: Self.everyone)
        carol.retain(members: Self.everyone)
    }

    /// One exchange: alice to bob and bob's answer, which echoes alice's salt.
    mutating func exchange() throws -> [UInt8] {
        let frame = try alice.seal(message, to: F.b.nodeID, at: F.addressB)
        _ = try bob.open(frame, from: F.addressA)
        _ = try alice.open(try bob.seal([], to: F.a.nodeID, at: F.addressA), from: F.addressB)
        return frame
    }

    @Test mutating func theFirstFrameIsFullAndOneAfterAnEchoIsShort() throws {
        let first = try exchange()
        #expect(first[4] == FrameCipher.version && first.count == message.count + FrameSession.overhead)
        let second = try alice.seal(message, to: F.b.nodeID, at: F.addressB)
        #expect(second[4] == FrameCipher.shortVersion)
        #expect(second.count == message.count + FrameCipher.shortOverhead)
        #expect(FrameCipher.shortOverhead == 79)
        let opened = try bob.open(second, from: F.addressA)
        #expect(opened.sender == F.a.nodeID && opened.message == message)
        #expect(opened.isSenderProven && opened.isReplayChecked && opened.isAddressValidated)
        #expect(throws: FrameError.replay) { try bob.open(second, from: F.addressA) }
    }

    @Test mutating func introductionsAreNeverShort() throws {
        _ = try exchange()
        #expect(try alice.sealIntroduction(message)[4] == FrameCipher.version)
    }

    @Test mutating func aReceiverThatRestartedLosesAtMostAFewFrames() throws {
        _ = try exchange()
        // Bob restarts with nobody present and no cache: he cannot resolve alice's 8 bytes.
        bob = F.session(F.b, seed: 4)
        var lost = 0
        for _ in 0..<MemberState.shortFramesUnanswered {
            let frame = try alice.seal(message, to: F.b.nodeID, at: F.addressB)
            #expect(frame[4] == FrameCipher.shortVersion)
            #expect(throws: FrameError.unresolvedSender) { try bob.open(frame, from: F.addressA) }
            lost += 1
        }
        let full = try alice.seal(message, to: F.b.nodeID, at: F.addressB)
        #expect(full[4] == FrameCipher.version)
        #expect(try bob.open(full, from: F.addressA).sender == F.a.nodeID)
        #expect(lost == MemberState.shortFramesUnanswered)
    }

    @Test mutating func anAnswerWithoutOurSaltStopsShortFramesAtOnce() throws {
        _ = try exchange()
        // Bob restarted: his first frame to alice echoes nothing of hers.
        var restarted = F.session(F.b, seed: 5, highWater: 1_000_000)
        restarted.retain(members: Self.everyone)
        _ = try alice.open(try restarted.seal([], to: F.a.nodeID, at: F.addressA), from: F.addressB)
        #expect(try alice.seal(message, to: F.b.nodeID, at: F.addressB)[4] == FrameCipher.version)
    }

    @Test mutating func aPeerThatIsNotPresentResolvesFromItsCache() throws {
        var stranger = F.session(F.b, seed: 6)
        let first = try alice.seal(message, to: F.b.nodeID, at: F.addressB)
        _ = try stranger.open(first, from: F.addressA)
        _ = try alice.open(try stranger.seal([], to: F.a.nodeID, at: F.addressA), from: F.addressB)
        let short = try alice.seal(message, to: F.b.nodeID, at: F.addressB)
        #expect(short[4] == FrameCipher.shortVersion)
        let opened = try stranger.open(short, from: F.addressA)
        #expect(opened.sender == F.a.nodeID && opened.isSenderProven && !opened.isReplayChecked)
    }

    /// Carol holds the mesh secret, so she can open alice's short frame to bob and re-seal its
    /// outer layer: neither renaming the sender nor sending it to someone else gets through.
    @Test mutating func aMemberCannotRedirectOrRenameAShortFrame() throws {
        _ = try exchange()
        let short = try alice.seal(message, to: F.b.nodeID, at: F.addressB)
        #expect(throws: FrameError.badPairTag) { try carol.open(short, from: F.addressA) }
        let cipher = FrameCipher(mesh: Fixtures.mesh1, secret: Fixtures.secret)
        let unsealed = try cipher.unseal(short)
        // Carol's own 8 bytes in place of alice's: the tag was made over alice's id.
        let renamed = cipher.sealRaw(
            senderField: Array(F.c.nodeID.bytes.prefix(8)), message: unsealed.message, tag: unsealed.tag,
            nonce: unsealed.nonce, short: true)
        #expect(throws: FrameError.badPairTag) { try bob.open(renamed, from: F.addressA) }
        // The full form of the same frame: the tag covers the header, so the form is bound too.
        let widened = cipher.sealRaw(
            senderField: F.a.nodeID.bytes, message: unsealed.message, tag: unsealed.tag, nonce: unsealed.nonce,
            short: false)
        #expect(throws: FrameError.badPairTag) { try bob.open(widened, from: F.addressA) }
        // Eight bytes nobody holds, and our own.
        let unknown = cipher.sealRaw(
            senderField: [UInt8](repeating: 0xee, count: 8), message: unsealed.message, tag: unsealed.tag,
            nonce: unsealed.nonce, short: true)
        #expect(throws: FrameError.unresolvedSender) { try bob.open(unknown, from: F.addressA) }
        let reflected = cipher.sealRaw(
            senderField: Array(F.b.nodeID.bytes.prefix(8)), message: unsealed.message, tag: unsealed.tag,
            nonce: unsealed.nonce, short: true)
        var lonely = F.session(F.b, seed: 7)
        lonely.retain(members: [F.b.nodeID])
        #expect(throws: FrameError.fromSelf) { try lonely.open(reflected, from: F.addressA) }
    }

    /// Any interleaving of sends, answers, losses, restarts and presence changes: every frame
    /// that opens names its true sender, and a run of refused frames from one sender to one
    /// receiver is never longer than `shortFramesUnanswered` before a full frame gets through.
    @Test func randomExchangesNeverMisnameAndNeverStall() {
        for seed in 0..<300 {
            var rng = IPAddressDifferentialTests.SplitMix(state: UInt64(seed))
            let steps = (0..<(10 + Int(rng.next() % 60))).map { _ in Int(rng.next() % 100) }
            let identities = [F.a, F.b, F.c]
            var sessions = identities.enumerated().map { F.session($0.element, seed: UInt64($0.offset + 11)) }
            for index in sessions.indices { sessions[index].retain(members: Self.everyone) }
            var refusedRun: [Int: Int] = [:]
            for (position, step) in steps.enumerated() {
                let from = step % 3
                let to = (from + 1 + (step / 3) % 2) % 3
                if step >= 90 {
                    // A restart that forgets everyone, or a presence change that drops the sender.
                    // Restarted with its persisted high-water mark, as the daemon does.
                    sessions[to] = F.session(
                        identities[to], seed: UInt64(position + 100), highWater: UInt64(position + 1) * 1_000_000)
                    if step % 2 == 0 { sessions[to].retain(members: Self.everyone) }
                    continue
                }
                guard let frame = try? sessions[from].seal([UInt8(step)], to: identities[to].nodeID, at: F.addressB)
                else {
                    Issue.record("seal failed")
                    continue
                }
                if step % 10 == 7 { continue }  // lost on the way
                let pair = from * 3 + to
                do {
                    let opened = try sessions[to].open(frame, from: F.addressA)
                    #expect(opened.sender == identities[from].nodeID)
                    #expect(opened.message == [UInt8(step)])
                    refusedRun[pair] = 0
                } catch {
                    #expect(error == .unresolvedSender, "\(error)")
                    refusedRun[pair, default: 0] += 1
                    #expect(refusedRun[pair]! <= MemberState.shortFramesUnanswered)
                }
            }
        }
    }
}
