import GossipCRDT
import MeshCore

/// Every frame the attacker sends is made here, and nowhere else.
///
/// The frame format is about to change (version 2: the sender authenticated by an X25519 key
/// shared by each pair of members, a replay window, and a nonce built from a counter, an echo and
/// a salt). Keeping sealing behind this one type means the attacks themselves never change when
/// it does: only `seal` and `forge` are switched to the new sealer.
///
/// Today (version 1) every token holder derives the same frame key, so the receiver and the
/// attacker's own identity play no part in sealing, and a forged sender is indistinguishable from
/// a real one. That is exactly what the hostile stage wants to prove is fixed.
///
/// Switching to version 2 (`FrameSession`): keep one session per identity the attacker speaks
/// as (sessions mutate, so this becomes a final class), seal to `receiver` at the target's address
/// (an introduction when the receiver is unknown), and open replies with the session of the
/// identity they were sealed to. `forge` cannot use the public API, which only ever writes the
/// session's own id: build the frame from the documented layout instead, with the claimed id as
/// sender and the introduction tag (computable by any token holder), so that the daemon must
/// treat it as an unproven claim rather than refuse it on cryptography alone.
struct AttackWire {
    let token: InviteToken
    /// The identity the attacker really holds: what version 2 would key a frame with, also when
    /// it claims to be someone else.
    let attacker: NodeIdentity
    private let sealer: FrameSealer

    init(token: InviteToken, attacker: NodeIdentity) {
        self.token = token
        self.attacker = attacker
        self.sealer = FrameSealer(mesh: token.mesh, secret: token.secret)
    }

    var mesh: MeshID { token.mesh }

    /// A frame that honestly comes from `identity` (the attacker, or one of its own sybils) and is
    /// meant for `receiver`. With version 1 the receiver is not part of the frame.
    func seal(message: GossipMessage, from identity: NodeIdentity, to receiver: NodeID?) throws -> [UInt8] {
        _ = receiver
        return try sealer.seal(message, sender: identity.nodeID)
    }

    /// A frame that claims to come from `claimedSender`, whose private key the attacker does not
    /// hold. With version 1 this is just a different sender field; with version 2 the best an
    /// attacker can do is authenticate it with its own pair key, which the receiver must refuse.
    func forge(message: GossipMessage, claimedSender: NodeID, to receiver: NodeID?) throws -> [UInt8] {
        _ = receiver
        return try sealer.seal(message, sender: claimedSender)
    }

    /// Opens a frame the attacker received, to report what the daemon answered. Nil when it does
    /// not open (version 2 frames meant for someone else, garbage).
    func open(_ frame: [UInt8]) -> (sender: NodeID, message: GossipMessage)? {
        try? sealer.openMessage(frame)
    }
}
