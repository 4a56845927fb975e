import CSodium
import Foundation
import GossipCRDT
import MeshCore

/// Every frame the attacker sends is made here, and nowhere else, so that the attacks never
/// change when the frame format does.
///
/// Frame version 2 (`FrameSession`): each identity the attacker speaks as has its own session,
/// frames are sealed to the receiver's key at the target's address, and replies open only in the
/// session of the identity they were sealed to. A frame in another member's name cannot be made
/// through the public API, which only ever writes the session's own id, so `forge` builds one from
/// the documented layout (docs/protocol.md, "Frame"): the claimed id as sender and the
/// introduction tag, which any token holder can compute. That is the strongest forgery a token
/// holder has: it passes every cryptographic check, so only the daemon's rule that an unproven
/// sender may open nothing but a digest can refuse it.
final class AttackWire {
    let mesh: MeshID
    let secret: MeshSecret
    /// The identity the attacker really holds.
    let attacker: NodeIdentity
    /// Where frames go; the session keeps per-address state (salts it sent, echoes).
    private let destination: PeerAddress
    private var sessions: [NodeID: FrameSession] = [:]
    private let frameKey: [UInt8]
    private let header: [UInt8]

    init(mesh: MeshID, secret: MeshSecret, attacker: NodeIdentity, destination: PeerAddress) {
        self.mesh = mesh
        self.secret = secret
        self.attacker = attacker
        self.destination = destination
        self.frameKey = Sodium.blake2b(
            [Array("smegmesh/v2/frame-key".utf8) + [0], Array(mesh.text.utf8)], outputLength: 32, key: secret.bytes)
        self.header = Array("SMEG".utf8) + [2] + mesh.bytes
    }

    /// A frame that honestly comes from `identity`, sealed to `receiver` (an introduction when the
    /// receiver is not known). The receiver counts as present in the attacker's session, so that
    /// the attacker echoes its salts like any member and gets its address validated.
    func seal(message: GossipMessage, from identity: NodeIdentity, to receiver: NodeID?) throws -> [UInt8] {
        var session =
            sessions[identity.nodeID] ?? FrameSession(mesh: mesh, secret: secret, identity: identity)
        defer { sessions[identity.nodeID] = session }
        let bytes = try GossipMessageCodec.encode(message)
        guard let receiver else { return try session.sealIntroduction(bytes) }
        session.retain(members: [receiver])
        return try session.seal(bytes, to: receiver, at: destination)
    }

    /// A frame that claims to come from `claimedSender`: an introduction in its name, with a
    /// fresh counter and salt. The receiver is not part of an introduction.
    func forge(message: GossipMessage, claimedSender: NodeID, to receiver: NodeID?) throws -> [UInt8] {
        _ = receiver
        let bytes = try GossipMessageCodec.encode(message)
        let counter = UInt64(Date().timeIntervalSince1970 * 1e9)
        var salt: UInt64 = 0
        while salt == 0 { salt = UInt64.random(in: 1...UInt64.max) }
        let nonce = Self.bigEndian(counter) + Self.bigEndian(0) + Self.bigEndian(salt)
        let introKey = Sodium.blake2b(
            [Array("smegmesh/v2/intro-key".utf8) + [0], claimedSender.bytes], outputLength: 32, key: frameKey)
        let anyReceiver = [UInt8](repeating: 0, count: NodeID.byteCount)
        let tag = Sodium.blake2b(
            [Array("smegmesh/v2/frame-tag".utf8) + [0], header, nonce, claimedSender.bytes, anyReceiver, bytes],
            outputLength: 16, key: introKey)
        let plaintext = claimedSender.bytes + bytes + tag
        var sealed = [UInt8](repeating: 0, count: plaintext.count + 16)
        var written: UInt64 = 0
        _ = crypto_aead_xchacha20poly1305_ietf_encrypt(
            &sealed, &written, plaintext, UInt64(plaintext.count), header, UInt64(header.count), nil, nonce, frameKey)
        return header + nonce + sealed
    }

    /// Opens a frame the attacker received, with whichever of its sessions it was sealed to.
    func open(_ frame: [UInt8]) -> (sender: NodeID, message: GossipMessage)? {
        for (id, var session) in sessions {
            guard let opened = try? session.open(frame, from: destination) else { continue }
            sessions[id] = session
            guard let message = try? GossipMessageCodec.decode(opened.message) else { return nil }
            return (opened.sender, message)
        }
        return nil
    }

    private static func bigEndian(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * UInt64($0))) }
    }
}
