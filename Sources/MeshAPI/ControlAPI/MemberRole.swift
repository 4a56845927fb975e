/// What a member is to the others, as records carry it (`NodeRecord.Role`) and the API names it.
public enum MemberRole: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// Reachable by others: listens on a public or forwarded port.
    case peer = 0
    /// Behind NAT or roaming: attaches to peers and is reached through them.
    case client = 1

    public var description: String { self == .peer ? "peer" : "client" }
}
