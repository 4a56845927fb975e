import GossipCRDT

/// The messages two members exchange about the WireGuard path between them, carried in
/// ordinary frames beside gossip and owner messages (type bytes 0x30–0x3F). Only a frame that
/// proves its sender, from a present member, may carry one.
///
/// ```
/// where-am-i  = 0x30 ‖ nonce (8)
/// you-are     = 0x31 ‖ nonce (8) ‖ endpoint (7 or 19: tag ‖ address ‖ port)
/// punch       = 0x32 ‖ attempt (4) ‖ flags (1; bit 0: a handshake completed on the direct
///               session since this attempt began)
/// probe       = 0x33 ‖ nonce (8)
/// probe-reply = 0x34 ‖ nonce (8)
/// relay       = 0x35 ‖ member id (32) ‖ length (2) ‖ frame (at most 256)
/// ```
///
/// A client asks a peer it has a WireGuard session with where that session's packets come from
/// (its reflexive endpoint); the answer echoes the nonce, so nobody else can plant one. Punch
/// messages are the consent of both ends: a node sends handshakes to another's candidates only
/// while it holds a fresh punch from that member for their pair. Punch messages travel through
/// the receiver's peer (`relay`: a frame sealed end to end for the member, which the peer passes
/// on as it is), not over the overlay: a member whose WireGuard still routes the sender's
/// address to a broken direct session would refuse them there. Probes test a direct session
/// that stopped carrying anything back, and carry `smegctl ping`; they go to the other's
/// overlay address, so they take whatever path WireGuard has for it.
public enum PathMessage: Equatable, Sendable {
    case whereAmI(nonce: UInt64)
    case youAre(nonce: UInt64, endpoint: Endpoint)
    case punch(attempt: UInt32, handshook: Bool)
    case probe(nonce: UInt64)
    case probeReply(nonce: UInt64)
    case relay(to: NodeID, frame: [UInt8])

    static let whereAmIType: UInt8 = 0x30
    static let youAreType: UInt8 = 0x31
    static let punchType: UInt8 = 0x32
    static let probeType: UInt8 = 0x33
    static let probeReplyType: UInt8 = 0x34
    static let relayType: UInt8 = 0x35
    /// A relayed frame carries one small path message: a punch is 42 bytes sealed.
    public static let maxRelayedFrame = 256
    public static let firstType: UInt8 = 0x30

    public static func isPathMessage(_ bytes: [UInt8]) -> Bool {
        guard let first = bytes.first else { return false }
        return first >= firstType && first < firstType + 0x10
    }

    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: 24)
        switch self {
        case .whereAmI(let nonce):
            writer.writeU8(Self.whereAmIType)
            writer.writeU64(nonce)
        case .youAre(let nonce, let endpoint):
            writer.writeU8(Self.youAreType)
            writer.writeU64(nonce)
            writer.writeEndpoint(endpoint)
        case .punch(let attempt, let handshook):
            writer.writeU8(Self.punchType)
            writer.writeU32(attempt)
            writer.writeU8(handshook ? 1 : 0)
        case .probe(let nonce):
            writer.writeU8(Self.probeType)
            writer.writeU64(nonce)
        case .probeReply(let nonce):
            writer.writeU8(Self.probeReplyType)
            writer.writeU64(nonce)
        case .relay(let member, let frame):
            writer.writeU8(Self.relayType)
            writer.writeBytes(member.bytes)
            writer.writeLengthPrefixed(frame, limit: Self.maxRelayedFrame, field: "relayed frame")
        }
        return writer.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws(WireError) -> PathMessage {
        var reader = ByteReader(bytes)
        let message: PathMessage
        switch try reader.readU8("message type") {
        case whereAmIType:
            message = .whereAmI(nonce: try reader.readU64("nonce"))
        case youAreType:
            let nonce = try reader.readU64("nonce")
            message = .youAre(nonce: nonce, endpoint: try reader.readEndpoint("endpoint", allowNames: false))
        case punchType:
            let attempt = try reader.readU32("attempt")
            let flags = try reader.readU8("punch flags")
            guard flags <= 1 else { throw .invalid(field: "punch flags", reason: "unknown bits set") }
            message = .punch(attempt: attempt, handshook: flags == 1)
        case probeType:
            message = .probe(nonce: try reader.readU64("nonce"))
        case probeReplyType:
            message = .probeReply(nonce: try reader.readU64("nonce"))
        case relayType:
            let member = NodeID(bytes: try reader.readBytes(32, "member"))!
            message = .relay(to: member, frame: try reader.readLengthPrefixed("relayed frame", limit: maxRelayedFrame))
        case let type:
            throw .invalid(field: "message type", reason: "unknown path message 0x\(String(type, radix: 16))")
        }
        try reader.finish()
        return message
    }
}
