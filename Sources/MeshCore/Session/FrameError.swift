/// Why the frame session refused to open or seal a frame.
///
/// Every byte from the network is untrusted, so each refusal is a value the daemon can count by
/// reason and drop; none is a trap. The cases are ordered roughly by how far a frame got: the
/// first ones cost the receiver a few comparisons, `authenticationFailed` one Poly1305 check,
/// `badPairTag` and `lowOrderKey` an X25519 at most, `replay` a cached key and a BLAKE2b.
public enum FrameError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Not a smegmesh frame at all (the first bytes are not `"SMEG"`).
    case badMagic
    /// A version 1 frame: recognised, refused. `FrameSession.versionOneSender(of:)` names the
    /// member that claims to have sent it, so the operator can be told to upgrade that node.
    case versionOne
    case unsupportedVersion(UInt8)
    /// The clear mesh id names another mesh; a node in several meshes routes by it first.
    case wrongMesh
    /// Shorter than the smallest valid frame.
    case truncated
    /// Longer than one UDP datagram; no honest sender produces it.
    case oversized(length: Int)
    /// The outer AEAD did not verify: not sealed with this mesh's secret, or modified.
    case authenticationFailed
    /// The frame was sealed by a mesh member, but not by the holder of the private key of the
    /// sender id it claims, or not for this receiver (a frame captured on another pair).
    case badPairTag
    /// Already accepted from this sender, or older than every counter its window retains.
    case replay
    /// The claimed sender (on open) or the receiver (on seal) is a small-order X25519 point:
    /// the Diffie-Hellman result would be zero, which anyone can compute.
    case lowOrderKey
    /// The frame claims to come from this node: a reflection of our own frame.
    case fromSelf
    /// The claimed sender is unknown and frames from unknown senders have used up this second's
    /// key agreements (`KeyAgreementBudget`); the frame was not an introduction either.
    case keyAgreementLimit
    /// A short frame (version 4) names its sender by 8 bytes that match no peer this node holds:
    /// the sender thought we held it (we restarted, or dropped it from the cache). It names itself
    /// in full again after a few such frames.
    case unresolvedSender
    /// The message does not fit in one datagram with the frame overhead.
    case messageTooLarge(length: Int, limit: Int)
    /// The reply does not fit in the anti-amplification budget of the frame that caused it.
    case overBudget(frameSize: Int, remaining: Int)
    /// The send counter reached 2^64 - 1 (around the year 2554, or a corrupted high-water mark).
    case counterExhausted

    public var description: String {
        switch self {
        case .badMagic: return "not a smegmesh frame (bad magic)"
        case .versionOne: return "frame version 1, no longer accepted; the sender must upgrade"
        case .unsupportedVersion(let version): return "unsupported frame version \(version)"
        case .wrongMesh: return "frame belongs to another mesh"
        case .truncated: return "frame too short"
        case .oversized(let length): return "frame of \(length) bytes exceeds one datagram"
        case .authenticationFailed: return "frame failed authentication (wrong mesh secret or modified in transit)"
        case .badPairTag: return "frame not sent by the member it names, or not sent to this node"
        case .replay: return "frame replayed or too old"
        case .lowOrderKey: return "small-order X25519 key refused"
        case .fromSelf: return "frame claims to come from this node"
        case .keyAgreementLimit: return "too many frames from unknown senders: dropped before its key agreement"
        case .unresolvedSender: return "short frame from a sender this node does not hold; it will resend in full"
        case .messageTooLarge(let length, let limit): return "message of \(length) bytes exceeds \(limit)"
        case .overBudget(let size, let remaining):
            return "reply of \(size) bytes exceeds the \(remaining) bytes left for an unvalidated address"
        case .counterExhausted: return "frame counter exhausted"
        }
    }

    /// A short stable label, for counting refusals by reason in metrics.
    public var reason: String {
        switch self {
        case .badMagic: return "bad_magic"
        case .versionOne: return "version_1"
        case .unsupportedVersion: return "unsupported_version"
        case .wrongMesh: return "wrong_mesh"
        case .truncated: return "truncated"
        case .oversized: return "oversized"
        case .authenticationFailed: return "unauthenticated"
        case .badPairTag: return "bad_pair_tag"
        case .replay: return "replay"
        case .lowOrderKey: return "low_order_key"
        case .fromSelf: return "from_self"
        case .keyAgreementLimit: return "key_agreement_limit"
        case .unresolvedSender: return "unresolved_sender"
        case .messageTooLarge: return "message_too_large"
        case .overBudget: return "over_budget"
        case .counterExhausted: return "counter_exhausted"
        }
    }
}
