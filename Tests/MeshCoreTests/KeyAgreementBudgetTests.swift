import GossipCRDT
import Testing

@testable import MeshCore

/// Frames from senders the session holds no key for may cost only so many X25519s a second.
@Suite struct KeyAgreementBudgetTests {
    typealias F = FrameV2Fixtures

    /// A made-up sender whose frame passes the outer AEAD (any member can write one).
    static func frame(from sender: NodeID, counter: UInt64) -> [UInt8] {
        let cipher = FrameCipher(mesh: Fixtures.mesh1, secret: Fixtures.secret)
        let nonce = FrameCipher.Nonce(counter: counter, echo: 0, salt: counter | 1)
        return cipher.seal(
            message: [1], sender: sender, receiver: F.b.nodeID.bytes, key: Array(repeating: 7, count: 32), nonce: nonce)
    }

    /// Property: over any sequence of readings, the agreements granted never exceed the burst
    /// plus the rate times the time elapsed, and a clock that steps back earns nothing.
    @Test(arguments: 1...50)
    func neverMoreThanTheBurstPlusTheRate(seed: UInt64) {
        var rng = IPAddressDifferentialTests.SplitMix(state: seed)
        var budget = KeyAgreementBudget()
        let start = UInt64(1_000_000_000_000)
        var now = start
        var origin: UInt64?
        var furthest = start
        var granted: UInt64 = 0
        for _ in 0..<2_000 {
            switch rng.next() % 10 {
            case 0: now = now.subtracting(saturating: rng.next() % 5_000_000_000)  // steps back
            case 1: now = now.adding(saturating: rng.next() % 3_000_000_000)
            default: now = now.adding(saturating: rng.next() % 2_000_000)
            }
            if origin == nil {
                origin = now
                furthest = now
            }
            furthest = max(furthest, now)
            if budget.take(now: now) { granted += 1 }
            let elapsedMillis = (furthest - origin!) / 1_000_000
            let allowed = KeyAgreementBudget.burst + elapsedMillis * KeyAgreementBudget.rate / 1000 + 1
            #expect(granted <= allowed, "granted \(granted) > \(allowed)")
        }
    }

    @Test func refillsAtTheRateUpToTheBurst() {
        var budget = KeyAgreementBudget()
        let start = UInt64(5_000_000_000)
        var granted = (0..<1_000).filter { _ in budget.take(now: start) }.count
        #expect(granted == Int(KeyAgreementBudget.burst))
        granted = (0..<1_000).filter { _ in budget.take(now: start + 1_000_000_000) }.count
        #expect(granted == Int(KeyAgreementBudget.rate))
        granted = (0..<1_000).filter { _ in budget.take(now: start + 100_000_000_000) }.count
        #expect(granted == Int(KeyAgreementBudget.burst), "a long pause refills no more than the burst")
    }

    /// 10,000 frames with fresh claimed senders in one instant cost at most the burst of
    /// agreements; the rest are refused before theirs. A joiner's introduction and a present
    /// member's frame still open during the flood, and an extreme counter changes nothing.
    @Test func aFloodOfUnknownSendersCostsAtMostTheBurst() throws {
        var rng = IPAddressDifferentialTests.SplitMix(state: 5)
        var bob = F.session(F.b, clock: { 2_000_000_000 })
        bob.retain(members: [F.a.nodeID])
        var refusals: [FrameError: Int] = [:]
        for index in 0..<10_000 {
            let sender = NodeID(rng.next(), rng.next(), rng.next(), rng.next())
            let counter = index % 2 == 0 ? UInt64.max : UInt64(index + 1)
            do {
                _ = try bob.open(Self.frame(from: sender, counter: counter), from: F.victim)
                Issue.record("a made-up sender opened")
            } catch {
                refusals[error, default: 0] += 1
            }
        }
        let agreed = refusals[.badPairTag, default: 0] + refusals[.lowOrderKey, default: 0]
        #expect(agreed <= Int(KeyAgreementBudget.burst))
        #expect(refusals[.keyAgreementLimit, default: 0] == 10_000 - agreed)

        var joiner = F.session(F.c)
        let introduction = try bob.open(try joiner.sealIntroduction([2]), from: F.addressA)
        #expect(!introduction.isSenderProven && introduction.message == [2])
        var alice = F.session(F.a)
        let member = try bob.open(try alice.seal([3], to: F.b.nodeID, at: F.addressB), from: F.addressA)
        #expect(member.isSenderProven && member.isReplayChecked)
        #expect(bob.footprint.members == 1 && bob.footprint.strangers == 0)
    }

    /// Frames naming present members cost one agreement per member, however many there are.
    @Test func forgedFramesNamingAMemberCostOneAgreement() throws {
        var bob = F.session(F.b, clock: { 2_000_000_000 })
        bob.retain(members: [F.a.nodeID])
        for counter in 1...1_000 {
            #expect(throws: FrameError.badPairTag) {
                try bob.open(Self.frame(from: F.a.nodeID, counter: UInt64(counter)), from: F.victim)
            }
        }
        // The budget for unknown senders is untouched by them.
        var agreed = 0
        for index in 0..<Int(KeyAgreementBudget.burst) {
            let sender = NodeID(UInt64(index) + 99, 1, 2, 3)
            do {
                _ = try bob.open(Self.frame(from: sender, counter: 5), from: F.victim)
            } catch .badPairTag, .lowOrderKey {
                agreed += 1
            } catch {
                Issue.record("refused before its agreement: \(error)")
            }
        }
        #expect(agreed == Int(KeyAgreementBudget.burst))
        #expect(throws: FrameError.keyAgreementLimit) {
            try bob.open(Self.frame(from: NodeID(7, 7, 7, 7), counter: 5), from: F.victim)
        }
    }
}
