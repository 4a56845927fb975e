import GossipCRDT

/// A member as the access policy sees it: its node id and the tags owners gave it.
public struct AccessMember: Hashable, Sendable {
    public let id: NodeID
    public let tags: Set<AccessTag>

    public init(id: NodeID, tags: some Sequence<AccessTag> = []) {
        self.id = id
        self.tags = Set(tags)
    }
}

/// Whether a flow may be opened, and what decided it, in words `smegctl acl check` prints.
public struct AccessDecision: Hashable, Sendable {
    public enum Reason: Hashable, Sendable {
        /// No owner signed a policy: everyone reaches everyone.
        case noPolicy
        /// A member's traffic to itself never crosses the mesh.
        case sameMember
        /// The first rule (by position, from 0) that allows it.
        case rule(index: Int, AccessRule)
        case noRuleAllows
    }

    public let isAllowed: Bool
    public let reason: Reason
}

/// What a receiver must accept from one source: the union of the rules from it to the receiver.
public struct AccessInbound: Hashable, Sendable {
    public let source: NodeID
    public let traffic: AccessTraffic
}

/// Evaluation: pure functions of the policy and the members' tags, so every member computes
/// the same answers from the same ledger. The enforcement reads three of them:
///
/// - `mayConnect`: whether a pair needs a WireGuard session at all (some rule allows some
///   flow in either direction); a pair that may not gets none, on both ends;
/// - `inbound(to:from:)`: what a receiver accepts from each source on its mesh interface;
/// - `traffic(from:to:)`: what a relay may forward from one member to another.
///
/// All of them agree with `decision`: a flow is allowed exactly when the traffic between the
/// pair admits it (`AccessPolicyPropertyTests` checks it against a brute-force reference).
extension AccessPolicy {
    /// May `from` open a flow of `proto` to `port` on `to`? A nil protocol asks whether it may
    /// open anything at all; a nil port whether it may reach some port of the protocol.
    /// Rules only allow, so the first that matches is the one named.
    public func decision(
        from: AccessMember, to: AccessMember, protocol proto: AccessProtocol? = nil, port: UInt16? = nil
    ) -> AccessDecision {
        if isDefault { return AccessDecision(isAllowed: true, reason: .noPolicy) }
        if from.id == to.id { return AccessDecision(isAllowed: true, reason: .sameMember) }
        for (index, rule) in rules.enumerated()
        where rule.from.matches(from) && rule.to.matches(to) && rule.traffic.admits(proto, port: port) {
            return AccessDecision(isAllowed: true, reason: .rule(index: index, rule))
        }
        return AccessDecision(isAllowed: false, reason: .noRuleAllows)
    }

    /// Everything `from` may open towards `to`: the union of every rule between them.
    public func traffic(from: AccessMember, to: AccessMember) -> AccessTraffic {
        if isDefault || from.id == to.id { return .everything }
        var traffic = AccessTraffic.nothing
        for rule in rules where rule.from.matches(from) && rule.to.matches(to) {
            traffic = traffic.union(rule.traffic)
            if traffic.anyProtocol { break }
        }
        return traffic
    }

    /// Whether `a` and `b` may have any WireGuard session: some rule lets one of them open
    /// something to the other. False means every flow between them, either way, is denied.
    public func mayConnect(_ a: AccessMember, _ b: AccessMember) -> Bool {
        if isDefault || a.id == b.id { return true }
        return rules.contains { rule in
            (rule.from.matches(a) && rule.to.matches(b)) || (rule.from.matches(b) && rule.to.matches(a))
        }
    }

    /// What `receiver` accepts from each of `members` (itself left out), in node id order;
    /// sources it accepts nothing from are not listed.
    public func inbound(to receiver: AccessMember, from members: some Sequence<AccessMember>) -> [AccessInbound] {
        let toReceiver = rules.filter { $0.to.matches(receiver) }
        var inbound: [AccessInbound] = []
        for source in members where source.id != receiver.id {
            var traffic = AccessTraffic.nothing
            for rule in toReceiver where rule.from.matches(source) {
                traffic = traffic.union(rule.traffic)
                if traffic.anyProtocol { break }
            }
            if !traffic.isEmpty { inbound.append(AccessInbound(source: source.id, traffic: traffic)) }
        }
        return inbound.sorted { $0.source < $1.source }
    }
}
