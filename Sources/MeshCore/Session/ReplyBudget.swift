/// How many bytes of frames a node may send in answer to one received frame.
///
/// A frame can arrive with a forged source address: an outsider replays a member's captured frame
/// from the address of a victim, or a member lies about its own. Answering such a frame with more
/// bytes than it carried would make the mesh an amplifier aimed at the victim. So, as in QUIC
/// (RFC 9000, section 8), replies caused by a frame from an address the sender has not proved it
/// receives at may total at most three times that frame's size; from a validated address they are
/// unlimited. The arithmetic saturates, so no size, however large or negative, can trap.
///
/// When a reply does not fit, send the smallest message that keeps the exchange going (a digest
/// without rumors) instead: it fits, because every frame is at least `FrameSession.overhead`
/// bytes and so grants at least three times that. Its salt comes back as the echo of the peer's
/// next frame, which validates the address, and from then on replies are unlimited.
public struct ReplyBudget: Sendable, Equatable, CustomStringConvertible {
    public static let amplificationFactor = 3

    /// Bytes still allowed; nil when the address is validated (no limit).
    public private(set) var remainingBytes: Int?

    public static let unlimited = ReplyBudget(remainingBytes: nil)

    private init(remainingBytes: Int?) {
        self.remainingBytes = remainingBytes
    }

    /// The budget a frame of `receivedBytes` bytes from an unvalidated address grants.
    public init(receivedBytes: Int) {
        let (product, overflow) = max(receivedBytes, 0).multipliedReportingOverflow(by: Self.amplificationFactor)
        self.remainingBytes = overflow ? Int.max : product
    }

    public var isUnlimited: Bool { remainingBytes == nil }

    public func allows(frameSize: Int) -> Bool {
        guard frameSize >= 0 else { return false }
        guard let remainingBytes else { return true }
        return frameSize <= remainingBytes
    }

    /// Takes `frameSize` bytes from the budget; false (and nothing taken) when they do not fit.
    public mutating func consume(frameSize: Int) -> Bool {
        guard allows(frameSize: frameSize) else { return false }
        if let remainingBytes { self.remainingBytes = remainingBytes - frameSize }
        return true
    }

    public var description: String {
        remainingBytes.map { "\($0) bytes" } ?? "unlimited"
    }
}
