import GossipCRDT
import Synchronization
import Testing

@testable import MeshCore

/// Shared setup: three members of one mesh, with deterministic clocks and salts.
enum FrameV2Fixtures {
    static let identity3 = try! NodeIdentity(seed: [UInt8](repeating: 0x07, count: 32))
    static let addressA = PeerAddress(ip: .v4(IPv4Address(192, 0, 2, 1)), port: 51900)
    static let addressA2 = PeerAddress(ip: .v6(IPv6Address("2001:db8::a")!), port: 51900)
    static let addressB = PeerAddress(ip: .v4(IPv4Address(192, 0, 2, 2)), port: 51900)
    static let victim = PeerAddress(ip: .v4(IPv4Address(198, 51, 100, 9)), port: 53)

    static func session(
        _ identity: NodeIdentity, seed: UInt64 = 1, clock: @escaping FrameSession.Clock = { 1_000 },
        highWater: UInt64 = 0, mesh: MeshID = Fixtures.mesh1
    ) -> FrameSession {
        FrameSession(
            mesh: mesh, secret: Fixtures.secret, identity: identity, counterHighWater: highWater, clock: clock,
            random: IPAddressDifferentialTests.SplitMix(state: seed))
    }

    static let a = Fixtures.identity1
    static let b = Fixtures.identity2
    static let c = identity3
}

@Suite struct FrameV2SessionTests {
    typealias F = FrameV2Fixtures
    var alice = F.session(F.a, seed: 1)
    var bob = F.session(F.b, seed: 2)
    var carol = F.session(F.c, seed: 3)
    let message: [UInt8] = Array("hello, mesh".utf8)

    init() {
        let everyone: Set = [F.a.nodeID, F.b.nodeID, F.c.nodeID]
        alice.retain(members: everyone)
        bob.retain(members: everyone)
        carol.retain(members: everyone)
    }

    @Test mutating func roundTripBothWays() throws {
        let frame = try alice.seal(message, to: F.b.nodeID, at: F.addressB)
        #expect(frame.count == message.count + FrameSession.overhead)
        #expect(FrameSession.overhead == 103)
        let opened = try bob.open(frame, from: F.addressA)
        #expect(opened.sender == F.a.nodeID)
        #expect(opened.message == message)
        #expect(opened.isSenderProven && opened.isReplayChecked)
        #expect(!opened.isAddressValidated)
        #expect(opened.replyBudget == ReplyBudget(receivedBytes: frame.count))
        let reply = try bob.seal([], to: F.a.nodeID, at: F.addressA)
        #expect(try alice.open(reply, from: F.addressB).message == [])
    }

    @Test mutating func opensWithoutPresenceButSkipsTheWindow() throws {
        var stranger = F.session(F.b, seed: 9)
        let frame = try alice.seal(message, to: F.b.nodeID, at: F.addressB)
        let first = try stranger.open(frame, from: F.addressA)
        #expect(first.isSenderProven && !first.isReplayChecked && !first.isAddressValidated)
        // Accepted again: no per-sender state for non-members, and the budget still binds.
        #expect(try stranger.open(frame, from: F.victim).replyBudget.remainingBytes == 3 * frame.count)
        #expect(stranger.footprint.members == 0)
    }

    @Test mutating func aMemberCannotSpeakForAnother() throws {
        // Carol holds the mesh secret and her own key, not Alice's.
        let cipher = FrameCipher(mesh: Fixtures.mesh1, secret: Fixtures.secret)
        let carolBob = cipher.pairKey(
            ownPrivate: F.c.wireGuardPrivateKey.bytes, ownPublic: F.c.nodeID, peer: F.b.nodeID)!
        let nonce = FrameCipher.Nonce(counter: 5_000, echo: 0, salt: 1)
        let forged = cipher.seal(
            message: message, sender: F.a.nodeID, receiver: F.b.nodeID.bytes, key: carolBob, nonce: nonce)
        #expect(throws: FrameError.badPairTag) { try bob.open(forged, from: F.addressA) }
        // Bob kept Alice's pair key (it depends on the two keys alone), nothing the forgery
        // said: its counter of 5,000 did not enter the window, so Alice's frame at a lower
        // counter still opens, and her address is not validated by it.
        #expect(bob.footprint.members <= 1)
        let real = try bob.open(try alice.seal(message, to: F.b.nodeID, at: F.addressB), from: F.addressA)
        #expect(real.counter < 5_000 && real.isReplayChecked && !real.isAddressValidated)
    }

    @Test mutating func aForgedIntroductionIsOnlyAClaim() throws {
        let cipher = FrameCipher(mesh: Fixtures.mesh1, secret: Fixtures.secret)
        let nonce = FrameCipher.Nonce(counter: UInt64.max, echo: 0, salt: 1)
        let forged = cipher.seal(
            message: message, sender: F.a.nodeID, receiver: FrameCipher.anyReceiver,
            key: cipher.introKey(sender: F.a.nodeID), nonce: nonce)
        let opened = try bob.open(forged, from: F.victim)
        #expect(!opened.isSenderProven && !opened.isReplayChecked && !opened.isAddressValidated)
        // The huge counter did not poison Alice's window at Bob.
        #expect(try bob.open(alice.seal(message, to: F.b.nodeID, at: F.addressB), from: F.addressA).isReplayChecked)
    }

    @Test mutating func introductionRoundTrip() throws {
        var joiner = F.session(F.c, seed: 4)
        let hello = try joiner.sealIntroduction(message)
        let opened = try bob.open(hello, from: F.addressA2)
        #expect(opened.sender == F.c.nodeID && !opened.isSenderProven)
        var budget = opened.replyBudget
        let answer = try bob.seal([1, 2, 3], to: opened.sender, at: F.addressA2, budget: &budget)
        let learned = try joiner.open(answer, from: F.addressB)
        #expect(learned.sender == F.b.nodeID && learned.isSenderProven)
    }

    @Test mutating func aFrameForCarolIsRefusedByBob() throws {
        let frame = try alice.seal(message, to: F.c.nodeID, at: F.addressB)
        #expect(throws: FrameError.badPairTag) { try bob.open(frame, from: F.addressA) }
        #expect(try carol.open(frame, from: F.addressA).sender == F.a.nodeID)
    }

    @Test mutating func replayIsRefusedAndReorderingAccepted() throws {
        let frames = try (0..<4).map { _ in try alice.seal(message, to: F.b.nodeID, at: F.addressB) }
        _ = try bob.open(frames[0], from: F.addressA)
        _ = try bob.open(frames[2], from: F.addressA)
        #expect(try bob.open(frames[1], from: F.addressA).isReplayChecked)
        for frame in frames.prefix(3) {
            #expect(throws: FrameError.replay) { try bob.open(frame, from: F.addressA) }
        }
        _ = try bob.open(frames[3], from: F.victim)
        #expect(throws: FrameError.replay) { try bob.open(frames[3], from: F.victim) }
    }

    @Test func countersIncreaseWhateverTheClockDoes() throws {
        let readings: [UInt64] = [50, 50, 10, 900, 0, 901, UInt64.max - 2]
        let index = Mutex(0)
        var session = F.session(
            F.a,
            clock: {
                index.withLock { index in
                    defer { index += 1 }
                    return readings[min(index, readings.count - 1)]
                }
            }, highWater: 40)
        var counters: [UInt64] = []
        for _ in 0..<readings.count + 2 {
            _ = try session.seal([], to: F.b.nodeID, at: F.addressB)
            counters.append(session.counterHighWater)
        }
        #expect(counters == [50, 51, 52, 900, 901, 902, UInt64.max - 2, UInt64.max - 1, UInt64.max])
        #expect(throws: FrameError.counterExhausted) { try session.seal([], to: F.b.nodeID, at: F.addressB) }
        #expect(session.counterHighWater == UInt64.max)
    }

    @Test func countersStayAboveTheClockAndIncreaseOnRandomClocks() throws {
        for seed in 1...20 as ClosedRange<UInt64> {
            // A clock that mostly advances and sometimes steps back by up to a second.
            let clock = Mutex((rng: IPAddressDifferentialTests.SplitMix(state: seed), now: UInt64(1) << 60))
            let lastReading = Mutex<UInt64>(0)
            var session = F.session(
                F.a,
                clock: {
                    let now = clock.withLock { state in
                        let step = state.rng.next() % 2_000_000_000
                        state.now = state.rng.next() % 4 == 0 ? state.now - step / 2 : state.now + step
                        return state.now
                    }
                    lastReading.withLock { $0 = now }
                    return now
                }, highWater: UInt64(seed) << 59)
            var previous = session.counterHighWater
            for _ in 0..<300 {
                _ = try session.sealIntroduction([])
                let counter = session.counterHighWater
                #expect(counter > previous)
                #expect(counter >= lastReading.withLock { $0 })
                previous = counter
            }
        }
    }

    @Test mutating func echoValidatesOnlyTheAddressTheSaltWentTo() throws {
        // Bob writes to Alice at A2 and at A; Alice has received only the frame sent to A2.
        let toA2 = try bob.seal([], to: F.a.nodeID, at: F.addressA2)
        _ = try bob.seal([], to: F.a.nodeID, at: F.addressA)
        _ = try alice.open(toA2, from: F.addressB)
        let echoing = try alice.seal(message, to: F.b.nodeID, at: F.addressB)
        // From A the echo proves nothing (the salt went to A2); from A2 it does.
        var other = bob
        #expect(try !other.open(echoing, from: F.addressA).isAddressValidated)
        let opened = try bob.open(echoing, from: F.addressA2)
        #expect(opened.isAddressValidated && opened.replyBudget.isUnlimited)
        #expect(bob.isValidated(F.addressA2, for: F.a.nodeID))
        #expect(!bob.isValidated(F.addressA, for: F.a.nodeID))
        // Validation is per member: Carol echoing nothing at A2 is not validated.
        let fromCarol = try carol.seal(message, to: F.b.nodeID, at: F.addressB)
        #expect(try !bob.open(fromCarol, from: F.addressA2).isAddressValidated)
    }

    @Test mutating func overBudgetRepliesChangeNothing() throws {
        let frame = try alice.seal([], to: F.b.nodeID, at: F.addressB)
        var budget = try bob.open(frame, from: F.victim).replyBudget
        #expect(budget.remainingBytes == 3 * FrameSession.overhead)
        let highWater = bob.counterHighWater
        let big = [UInt8](repeating: 0, count: 2 * FrameSession.overhead + 1)
        #expect(throws: FrameError.overBudget(frameSize: big.count + 103, remaining: 309)) {
            try bob.seal(big, to: F.a.nodeID, at: F.victim, budget: &budget)
        }
        #expect(bob.counterHighWater == highWater && budget.remainingBytes == 309)
        _ = try bob.seal([UInt8](repeating: 0, count: 100), to: F.a.nodeID, at: F.victim, budget: &budget)
        #expect(budget.remainingBytes == 309 - 203)
    }

    @Test mutating func lowOrderKeysAreRefused() throws {
        let cipher = FrameCipher(mesh: Fixtures.mesh1, secret: Fixtures.secret)
        for point in FrameV2X25519Tests.lowOrderPoints {
            let id = NodeID(bytes: point)!
            #expect(throws: FrameError.lowOrderKey) { try alice.seal(message, to: id, at: F.addressB) }
            let nonce = FrameCipher.Nonce(counter: 1, echo: 0, salt: 1)
            let frame = cipher.seal(
                message: [], sender: id, receiver: F.b.nodeID.bytes, key: Array(repeating: 0, count: 32), nonce: nonce)
            #expect(throws: FrameError.lowOrderKey) { try bob.open(frame, from: F.addressA) }
        }
    }

    @Test mutating func reflectedFramesAreRefused() throws {
        let hello = try alice.sealIntroduction(message)
        #expect(throws: FrameError.fromSelf) { try alice.open(hello, from: F.addressB) }
    }

    @Test mutating func versionOneIsRecognisedAndRefused() throws {
        let v1 = try FrameSealer(mesh: Fixtures.mesh1, secret: Fixtures.secret).seal(
            sender: F.c.nodeID, message: message)
        #expect(throws: FrameError.versionOne) { try bob.open(v1, from: F.addressA) }
        #expect(try bob.versionOneSender(of: v1) == F.c.nodeID)
        let foreign = try FrameSealer(mesh: Fixtures.mesh2, secret: Fixtures.secret).seal(
            sender: F.c.nodeID, message: [])
        #expect(throws: FrameError.wrongMesh) { try bob.versionOneSender(of: foreign) }
        let v2 = try alice.seal(message, to: F.b.nodeID, at: F.addressB)
        #expect(throws: FrameError.unsupportedVersion(2)) { try bob.versionOneSender(of: v2) }
        var tampered = v1
        tampered[tampered.count - 1] ^= 1
        #expect(throws: FrameError.authenticationFailed) { try bob.versionOneSender(of: tampered) }
    }

    @Test mutating func meshIDIsReadFromEitherVersion() throws {
        let v2 = try alice.seal(message, to: F.b.nodeID, at: F.addressB)
        #expect(try FrameSession.meshID(of: v2) == Fixtures.mesh1)
        let v1 = try FrameSealer(mesh: Fixtures.mesh2, secret: Fixtures.secret).seal(sender: F.c.nodeID, message: [])
        #expect(try FrameSession.meshID(of: v1) == Fixtures.mesh2)
        #expect(throws: FrameError.truncated) { try FrameSession.meshID(of: Array(v1.prefix(14))) }
        #expect(throws: FrameError.badMagic) { try FrameSession.meshID(of: [0x53, 0x4d, 0x45, 0x48]) }
        var join = v2
        join[4] = JoinMessage.frameVersion
        #expect(try FrameSession.meshID(of: join) == Fixtures.mesh1, "join frames are routed by their mesh id too")
        var short = v2
        short[4] = FrameCipher.shortVersion
        #expect(try FrameSession.meshID(of: short) == Fixtures.mesh1, "short frames too")
        var future = v2
        future[4] = 5
        #expect(throws: FrameError.unsupportedVersion(5)) { try FrameSession.meshID(of: future) }
        for length in 0..<FrameCipher.headerSize {
            #expect(throws: FrameError.self) { try FrameSession.meshID(of: Array(v2.prefix(length))) }
        }
    }

    @Test mutating func headerErrorsAreNamed() throws {
        var frame = try alice.seal(message, to: F.b.nodeID, at: F.addressB)
        var other = F.session(F.b, mesh: Fixtures.mesh2)
        #expect(throws: FrameError.wrongMesh) { try other.open(frame, from: F.addressA) }
        #expect(throws: FrameError.badMagic) { try bob.open(Array("GET / HTTP/1.1".utf8), from: F.addressA) }
        #expect(throws: FrameError.oversized(length: 65_508)) {
            try bob.open(frame + [UInt8](repeating: 0, count: 65_508 - frame.count), from: F.addressA)
        }
        frame[4] = 9
        #expect(throws: FrameError.unsupportedVersion(9)) { try bob.open(frame, from: F.addressA) }
    }

    @Test mutating func everyTamperedByteAndTruncationIsATypedError() throws {
        let frame = try alice.seal(message, to: F.b.nodeID, at: F.addressB)
        for index in frame.indices {
            for bit in [0x01, 0x80] as [UInt8] {
                var tampered = frame
                tampered[index] ^= bit
                #expect(throws: FrameError.self) { try bob.open(tampered, from: F.addressA) }
            }
        }
        for length in 0..<frame.count {
            #expect(throws: FrameError.self) { try bob.open(Array(frame.prefix(length)), from: F.addressA) }
        }
        #expect(throws: FrameError.self) { try bob.open(frame + [0], from: F.addressA) }
        #expect(bob.footprint.members == 0)
        #expect(try bob.open(frame, from: F.addressA).message == message)
    }

    @Test mutating func oversizedMessagesAreRefused() throws {
        let largest = [UInt8](repeating: 7, count: FrameSession.maxMessageSize)
        let frame = try alice.seal(largest, to: F.b.nodeID, at: F.addressB)
        #expect(frame.count == FrameSession.maxFrameSize)
        #expect(try bob.open(frame, from: F.addressA).message == largest)
        #expect(throws: FrameError.messageTooLarge(length: largest.count + 1, limit: largest.count)) {
            try alice.seal(largest + [0], to: F.b.nodeID, at: F.addressB)
        }
    }
}
