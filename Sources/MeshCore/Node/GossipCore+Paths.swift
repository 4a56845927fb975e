import GossipCRDT

extension GossipCore {
    /// Seals a path message for `member` at `address` (where it is reached when nil). Path
    /// messages answer only proven frames of present members, so no reply budget applies.
    mutating func sendPath(_ message: PathMessage, to member: NodeID, at address: PeerAddress? = nil) -> [Effect] {
        guard let address = address ?? self.address(of: member) else { return [] }
        var budget: ReplyBudget?
        guard let frame = try? wire.seal(message.encoded(), to: member, at: address, budget: &budget) else {
            return [.rejected("path-unsealable")]
        }
        return [.send(frame, to: address)]
    }

    /// Seals a path message for `member` and hands it to `relay` to pass on: the frame is the
    /// member's to open, the relay sees only who it is for.
    mutating func sendPath(_ message: PathMessage, to member: NodeID, via relay: NodeID) -> [Effect] {
        var budget: ReplyBudget?
        guard let inner = records[member].map({ PeerAddress(ip: .v6($0.address), port: $0.gossipPort) }),
            let frame = try? wire.seal(message.encoded(), to: member, at: inner, budget: &budget),
            frame.count <= PathMessage.maxRelayedFrame
        else { return [.rejected("path-unsealable")] }
        return sendPath(.relay(to: member, frame: frame), to: relay)
    }
}
