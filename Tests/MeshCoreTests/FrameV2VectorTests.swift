import GossipCRDT
import Testing

@testable import MeshCore

/// The version 2 vectors in docs/protocol.md ("Frame version 2 test vectors"): sender = the
/// identity of seed 00…1f, receiver = the identity of seed 42…42, mesh and secret as for
/// version 1, message 01 02 03, counter 1,796,083,200,000,000,000 (2026-12-01T00:00:00Z in
/// nanoseconds), echo 11 × 8, salt 24 × 8.
@Suite struct FrameV2VectorTests {
    let cipher = FrameCipher(mesh: Fixtures.mesh1, secret: Fixtures.secret)
    let sender = Fixtures.identity1
    let receiver = Fixtures.identity2
    let nonce = FrameCipher.Nonce(
        counter: 1_796_083_200_000_000_000, echo: 0x1111_1111_1111_1111, salt: 0x2424_2424_2424_2424)
    let message: [UInt8] = [1, 2, 3]

    var pairKey: [UInt8] {
        cipher.pairKey(ownPrivate: sender.wireGuardPrivateKey.bytes, ownPublic: sender.nodeID, peer: receiver.nodeID)!
    }

    @Test func keysMatchTheDocument() {
        #expect(hex(receiver.nodeID.bytes) == FrameV2Vectors.receiver)
        #expect(hex(cipher.frameKey) == FrameV2Vectors.frameKey)
        #expect(hex(pairKey) == FrameV2Vectors.pairKey)
        // The receiver derives the same key from its own private key.
        let mirrored = cipher.pairKey(
            ownPrivate: receiver.wireGuardPrivateKey.bytes, ownPublic: receiver.nodeID, peer: sender.nodeID)
        #expect(mirrored == pairKey)
        #expect(hex(cipher.introKey(sender: sender.nodeID)) == FrameV2Vectors.introKey)
    }

    @Test func frameMatchesTheDocument() throws {
        let tag = cipher.tag(
            key: pairKey, nonce: nonce, sender: sender.nodeID, receiver: receiver.nodeID.bytes, message: message)
        #expect(hex(tag) == FrameV2Vectors.pairTag)
        #expect(hex(nonce.bytes) == FrameV2Vectors.nonce)
        let frame = cipher.seal(
            message: message, sender: sender.nodeID, receiver: receiver.nodeID.bytes, key: pairKey, nonce: nonce)
        #expect(hex(frame) == FrameV2Vectors.frame)
        var session = FrameV2Fixtures.session(receiver)
        session.retain(members: [sender.nodeID])
        let opened = try session.open(frame, from: FrameV2Fixtures.addressA)
        #expect(opened.sender == sender.nodeID && opened.message == message && opened.counter == nonce.counter)
        #expect(opened.isSenderProven && opened.isReplayChecked)
        #expect(throws: FrameError.replay) { try session.open(frame, from: FrameV2Fixtures.addressA) }
    }

    /// The same frame in the short form (version 4): the sender named by its first 8 bytes, the
    /// pair tag over the whole id and the version 4 header.
    @Test func shortFrameMatchesTheDocument() throws {
        let tag = cipher.tag(
            key: pairKey, nonce: nonce, sender: sender.nodeID, receiver: receiver.nodeID.bytes, message: message,
            short: true)
        #expect(hex(tag) == FrameV2Vectors.shortPairTag)
        let frame = cipher.seal(
            message: message, sender: sender.nodeID, receiver: receiver.nodeID.bytes, key: pairKey, nonce: nonce,
            short: true)
        #expect(hex(frame) == FrameV2Vectors.shortFrame)
        #expect(frame.count == message.count + FrameCipher.shortOverhead)
        var session = FrameV2Fixtures.session(receiver)
        session.retain(members: [sender.nodeID])
        let opened = try session.open(frame, from: FrameV2Fixtures.addressA)
        #expect(opened.sender == sender.nodeID && opened.message == message && opened.counter == nonce.counter)
        #expect(opened.isSenderProven && opened.isReplayChecked)
        // A receiver that holds nobody with those 8 bytes cannot tell who sent it.
        var stranger = FrameV2Fixtures.session(receiver)
        #expect(throws: FrameError.unresolvedSender) { try stranger.open(frame, from: FrameV2Fixtures.addressA) }
    }

    @Test func introductionMatchesTheDocument() throws {
        let intro = cipher.seal(
            message: message, sender: sender.nodeID, receiver: FrameCipher.anyReceiver,
            key: cipher.introKey(sender: sender.nodeID), nonce: nonce)
        #expect(hex(intro) == FrameV2Vectors.introduction)
        var session = FrameV2Fixtures.session(FrameV2Fixtures.c)
        let opened = try session.open(intro, from: FrameV2Fixtures.addressA)
        #expect(opened.sender == sender.nodeID && !opened.isSenderProven)
    }
}

/// Published in docs/protocol.md and reproduced independently with Python (hashlib BLAKE2b,
/// `cryptography`'s X25519 and ChaCha20-Poly1305, HChaCha20 written out).
enum FrameV2Vectors {
    static let receiver = "cc4f2cdb695dd766f34118eb67b98652fed1d8bc49c330b119bbfa8a64989378"
    static let frameKey = "c3310d6303f23ed46fd6509766eab6da81b0089fdec8d97bf4c2c08c6065d969"
    static let pairKey = "23bb1e05c084bc247f760403339c458c9179081ae95fb1be4304be4ae4e2d95b"
    static let introKey = "b2b8d01a2118a96e8999ceb5a62c44128b4f16ed815f1d1d406c7a99e54cb268"
    static let nonce = "18ecf827830c000011111111111111112424242424242424"
    static let pairTag = "a09173a8688b59fac938709bd716e66f"
    static let frame =
        "534d45470200010203040506070809" + nonce
        + "96766646fd2bf2a91d2b48c7edf57955a93b6b57c412ad988fad773144e4ba35b33753f14b1f65b6576836701f81fa06b1"
        + "770b99d078732cf39abd103ffa603e5d057f"
    static let shortPairTag = "b97c8b136441761178084c12b03800f4"
    static let shortFrame =
        "534d45470400010203040506070809" + nonce
        + "96766646fd2bf2a94669d4cb1b9d8fb469873a83f321ae6e2f60f20922fb6b6601ce2e45a38bac5800b2cb"
    static let introduction =
        "534d45470200010203040506070809" + nonce
        + "96766646fd2bf2a91d2b48c7edf57955a93b6b57c412ad988fad773144e4ba35b33753d9323b62f58301e38ec79868891f"
        + "dd3b79e15772da2c39e541d2231331168e9e"
}
