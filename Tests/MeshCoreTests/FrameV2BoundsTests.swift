import GossipCRDT
import Synchronization
import Testing

@testable import MeshCore

/// Memory stays bounded whatever senders claim: a member holding the mesh secret can make up
/// any number of sender ids, and only present members, plus a fixed number of recent
/// non-present peers, may cost state.
@Suite struct FrameV2BoundsTests {
    typealias F = FrameV2Fixtures

    /// A clock that moves 10 ms at every reading: 100 frames a second, inside the key-agreement
    /// budget, for the tests about state rather than CPU.
    final class SteppingClock: Sendable {
        let nanoseconds = Atomic<UInt64>(1_000_000_000)
        let step: UInt64
        init(step: UInt64 = 10_000_000) { self.step = step }
        var clock: FrameSession.Clock { { self.nanoseconds.add(self.step, ordering: .relaxed).newValue } }
    }

    @Test func madeUpSendersLeaveNoState() throws {
        var rng = IPAddressDifferentialTests.SplitMix(state: 21)
        var bob = F.session(F.b, clock: SteppingClock().clock)
        bob.retain(members: [F.a.nodeID])
        let cipher = FrameCipher(mesh: Fixtures.mesh1, secret: Fixtures.secret)
        var refusals: [FrameError: Int] = [:]
        for index in 0..<100_000 {
            let id = NodeID(rng.next(), rng.next(), rng.next(), rng.next())
            let key = (0..<4).flatMap { _ in withUnsafeBytes(of: rng.next()) { Array($0) } }
            let nonce = FrameCipher.Nonce(counter: UInt64(index), echo: rng.next(), salt: rng.next())
            let frame = cipher.seal(
                message: [UInt8(truncatingIfNeeded: index)], sender: id, receiver: F.b.nodeID.bytes, key: key,
                nonce: nonce)
            do {
                _ = try bob.open(frame, from: F.victim)
                Issue.record("a made-up sender opened")
            } catch {
                refusals[error, default: 0] += 1
            }
        }
        #expect(refusals[.badPairTag, default: 0] + refusals[.lowOrderKey, default: 0] == 100_000)
        #expect(bob.footprint.members == 0)
    }

    @Test func realSendersOutsideThePresentSetShareABoundedCache() throws {
        var bob = F.session(F.b, clock: SteppingClock().clock)
        var senders: [NodeID] = []
        for index in 0..<300 {
            let identity = try NodeIdentity(
                seed: [UInt8(index & 0xFF), UInt8(index >> 8)] + Array(repeating: 9, count: 30))
            var session = F.session(identity, seed: UInt64(index))
            let frame = try session.seal([], to: F.b.nodeID, at: F.addressB)
            #expect(try bob.open(frame, from: F.addressA).isReplayChecked == false)
            senders.append(identity.nodeID)
            #expect(bob.footprint.strangers <= StrangerCache.capacity)
        }
        #expect(bob.footprint.members == 0 && bob.footprint.strangers == StrangerCache.capacity)
        // Making them present moves only the cached strangers' state (the last 64 senders) into
        // member state; the rest cost nothing until they speak or are sealed to. Departing
        // members' state goes back to the bounded stranger cache.
        bob.retain(members: Set(senders))
        #expect(bob.footprint.members == StrangerCache.capacity && bob.footprint.strangers == 0)
        for sender in senders.prefix(100) { _ = try bob.seal([1], to: sender, at: F.addressA) }
        #expect(bob.footprint.members == StrangerCache.capacity + 100)
        bob.retain(members: [])
        #expect(bob.footprint.members == 0 && bob.footprint.strangers == StrangerCache.capacity)
    }

    @Test func manyProvenStrangersShareTheBoundedCache() throws {
        var rng = IPAddressDifferentialTests.SplitMix(state: 33)
        var bob = F.session(F.b, clock: SteppingClock().clock)
        let cipher = FrameCipher(mesh: Fixtures.mesh1, secret: Fixtures.secret)
        var opened = 0
        // 20,000 is 300 times the cache: every entry is evicted many times over, at a fifth of
        // the debug-build time 100,000 took (each sender costs an X25519).
        for index in 0..<20_000 {
            let secret = (0..<4).flatMap { _ in withUnsafeBytes(of: rng.next()) { Array($0) } }
            guard let id = Sodium.x25519PublicKey(privateKey: secret).flatMap(NodeID.init(bytes:)),
                let key = cipher.pairKey(ownPrivate: secret, ownPublic: id, peer: F.b.nodeID)
            else { continue }
            let nonce = FrameCipher.Nonce(counter: UInt64(index + 1), echo: rng.next(), salt: rng.next() | 1)
            let frame = cipher.seal(message: [], sender: id, receiver: F.b.nodeID.bytes, key: key, nonce: nonce)
            let result = try bob.open(frame, from: F.victim)
            #expect(result.isSenderProven && !result.isAddressValidated)
            opened += 1
            if index % 1_000 == 0 { #expect(bob.footprint.strangers <= StrangerCache.capacity) }
        }
        #expect(opened > 19_800)
        #expect(bob.footprint == FrameSession.Footprint(members: 0, strangers: StrangerCache.capacity))
    }

    @Test func manySealTargetsShareTheBoundedCache() throws {
        var rng = IPAddressDifferentialTests.SplitMix(state: 34)
        var alice = F.session(F.a)
        for index in 0..<20_000 {
            let id = NodeID(rng.next(), rng.next(), rng.next(), rng.next())
            _ = try? alice.seal([], to: id, at: F.addressB)
            if index % 1_000 == 0 { #expect(alice.footprint.strangers <= StrangerCache.capacity) }
        }
        #expect(alice.footprint == FrameSession.Footprint(members: 0, strangers: StrangerCache.capacity))
    }

    @Test func perMemberStateIsBounded() {
        var rng = IPAddressDifferentialTests.SplitMix(state: 8)
        var state = MemberState(pairKey: [])
        var lastSalt: [PeerAddress: UInt64] = [:]
        for index in 0..<10_000 {
            let address = PeerAddress(ip: .v4(IPv4Address(UInt32(rng.next() % 5))), port: UInt16(index % 3))
            let salt = rng.next() | 1
            state.recordSent(salt: salt, to: address)
            lastSalt[address] = salt
            state.noteEcho(salt, from: address)
            #expect(state.isValidated(address))
            #expect(state.sent.count <= MemberState.addressLimit)
            #expect(state.sent.allSatisfy { $0.salts.count <= MemberState.saltsPerAddress })
            #expect(state.validated.count <= MemberState.validatedLimit)
        }
        // Echoes of 0, of salts sent elsewhere, and of forgotten salts validate nothing.
        var fresh = MemberState(pairKey: [])
        let here = F.addressA
        fresh.recordSent(salt: 77, to: F.addressA2)
        fresh.noteEcho(77, from: here)
        fresh.noteEcho(0, from: here)
        #expect(!fresh.isValidated(here))
        fresh.recordSent(salt: 5, to: here)
        for salt in 6..<(6 + UInt64(MemberState.saltsPerAddress)) { fresh.recordSent(salt: salt, to: here) }
        fresh.noteEcho(5, from: here)
        #expect(!fresh.isValidated(here))
        fresh.noteEcho(6, from: here)
        #expect(fresh.isValidated(here))
    }

    /// Prints, does not assert: debug-build numbers, for orientation only (release-build numbers
    /// are in docs/protocol.md, "Frame").
    @Test func printCostPerFrame() throws {
        var alice = F.session(F.a, clock: FrameSession.wallClock)
        var bob = F.session(F.b)
        alice.retain(members: [F.b.nodeID])
        bob.retain(members: [F.a.nodeID])
        let message = [UInt8](repeating: 0x5A, count: 1_000)
        let rounds = 2_000
        let clock = ContinuousClock()
        var frames: [[UInt8]] = []
        let sealing = try clock.measure {
            for _ in 0..<rounds { frames.append(try alice.seal(message, to: F.b.nodeID, at: F.addressB)) }
        }
        let opening = try clock.measure {
            for frame in frames { _ = try bob.open(frame, from: F.addressA) }
        }
        let perFrame = { (duration: Duration) in Double(duration.components.attoseconds) / 1e12 / Double(rounds) }
        print("frame v2, 1000-byte message, debug build: seal \(perFrame(sealing)) µs, open \(perFrame(opening)) µs")
    }
}
