import GossipCRDT

/// Policies and rules back to the text format: what `smegctl acl` prints, and what `parse`
/// reads back to the same policy, so a printed policy is a file an owner can edit and sign.
extension AccessPolicyText {
    /// One line per rule. Members are written as their keys (what was signed, and what stays
    /// true when aliases change), followed by a comment with the names `names` gives them.
    public static func render(_ policy: AccessPolicy, names: (NodeID) -> String? = { _ in nil }) -> String {
        policy.rules.map { render($0, names: names) + "\n" }.joined()
    }

    public static func render(_ rule: AccessRule, names: (NodeID) -> String? = { _ in nil }) -> String {
        let traffic = rule.traffic.description
        let text = "allow \(render(rule.from)) -> \(render(rule.to))" + (traffic.isEmpty ? "" : " \(traffic)")
        let named = [rule.from, rule.to].compactMap { side -> String? in
            guard case .member(let id) = side, let name = names(id) else { return nil }
            return "\(render(side).prefix(8))… is \(name)"
        }
        return named.isEmpty ? text : text + "  # " + named.joined(separator: ", ")
    }

    public static func render(_ selector: AccessSelector) -> String {
        switch selector {
        case .anyMember: "*"
        case .tag(let tag): "tag:\(tag)"
        case .member(let id): WireGuardPublicKey(nodeID: id).base64
        }
    }
}
