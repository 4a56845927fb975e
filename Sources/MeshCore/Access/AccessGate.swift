import GossipCRDT

/// The policy applied to one membership, for enforcement: which rules each member matches as a
/// source and as a destination, found once per member.
///
/// Enforcement asks about every pair a node carries (its sessions, its relay's and input's
/// filter maps): at N = 100 members and 256 rules that is tens of thousands of questions per
/// reconcile, each a walk over the rules if asked of `AccessPolicy` directly. Here a question
/// is a few word-wide ANDs. The answers are the policy's own (`AccessPolicyPropertyTests`).
public struct AccessGate: Sendable {
    public let policy: AccessPolicy
    private let tags: [NodeID: [AccessTag]]
    private let sides: [NodeID: Sides]

    /// The rules a member matches on each side, one bit per rule.
    private struct Sides: Sendable {
        var from: [UInt64]
        var to: [UInt64]
    }

    public init(policy: AccessPolicy, tags: [NodeID: [AccessTag]], members: some Sequence<NodeID>) {
        self.policy = policy
        self.tags = tags
        var sides: [NodeID: Sides] = [:]
        if !policy.isDefault {
            for id in members where sides[id] == nil {
                sides[id] = Self.sides(of: AccessMember(id: id, tags: tags[id] ?? []), in: policy)
            }
        }
        self.sides = sides
    }

    /// True when no policy is in force: nothing is filtered anywhere.
    public var isOpen: Bool { policy.isDefault }

    public func member(_ id: NodeID) -> AccessMember { AccessMember(id: id, tags: tags[id] ?? []) }

    /// `AccessPolicy.mayConnect`: whether the pair may have a WireGuard session at all.
    public func mayConnect(_ a: NodeID, _ b: NodeID) -> Bool {
        if isOpen || a == b { return true }
        let (x, y) = (sides(of: a), sides(of: b))
        for word in x.from.indices where (x.from[word] & y.to[word]) | (y.from[word] & x.to[word]) != 0 {
            return true
        }
        return false
    }

    /// `AccessPolicy.traffic(from:to:)`: everything `from` may open towards `to`.
    public func traffic(from: NodeID, to: NodeID) -> AccessTraffic {
        if isOpen || from == to { return .everything }
        let (x, y) = (sides(of: from), sides(of: to))
        var traffic = AccessTraffic.nothing
        for word in x.from.indices {
            var bits = x.from[word] & y.to[word]
            while bits != 0 {
                traffic = traffic.union(policy.rules[word * 64 + bits.trailingZeroBitCount].traffic)
                if traffic.anyProtocol { return traffic }
                bits &= bits - 1
            }
        }
        return traffic
    }

    private func sides(of id: NodeID) -> Sides {
        sides[id] ?? Self.sides(of: member(id), in: policy)
    }

    private static func sides(of member: AccessMember, in policy: AccessPolicy) -> Sides {
        let words = (policy.rules.count + 63) / 64
        var sides = Sides(from: Array(repeating: 0, count: words), to: Array(repeating: 0, count: words))
        for (index, rule) in policy.rules.enumerated() {
            if rule.from.matches(member) { sides.from[index / 64] |= 1 << UInt64(index % 64) }
            if rule.to.matches(member) { sides.to[index / 64] |= 1 << UInt64(index % 64) }
        }
        return sides
    }
}
