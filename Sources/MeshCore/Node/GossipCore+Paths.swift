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
}
