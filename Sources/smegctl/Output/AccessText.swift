import MeshAPI

/// Access policies and checks as `smegctl acl` prints them. The policy comes out as a file
/// `acl set` reads back: everything that is not a rule is a `#` comment.
enum AccessText {
    static func policy(_ view: AccessPolicyView) -> String {
        var lines: [String] = []
        if view.isDefault {
            lines += [
                "# Mesh \(view.meshId) has no access policy: every member reaches every other.",
                "# An owner signs one with `smegctl acl set \(view.meshId) FILE` (docs/acl.md).",
            ]
        } else {
            let signed = view.signedBy.map { " signed by \($0)" } ?? ""
            let when = view.signedAtMillis.map { " at \(TextTable.timestamp($0))" } ?? ""
            lines += [
                "# Access policy of mesh \(view.meshId), version \(view.version ?? 0)\(signed)\(when): "
                    + "\(view.rules) rules. A flow no rule allows is denied.",
                view.text.hasSuffix("\n") ? String(view.text.dropLast()) : view.text,
            ]
        }
        if !view.tagged.isEmpty {
            lines += ["", "# Tags:"]
            lines += view.tagged.map { "#   \(name($0, tags: false)): \($0.tags.joined(separator: ", "))" }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func check(_ answer: AccessCheckResponse) -> String {
        let from = name(answer.from)
        let to = name(answer.to)
        let verdict = answer.allowed ? "ALLOWED" : "DENIED"
        let why: String
        switch answer.reason {
        case "no-policy": why = "the mesh has no access policy, so everyone reaches everyone"
        case "same-member": why = "a member's traffic to itself never crosses the mesh"
        case "rule": why = "rule \(answer.ruleNumber ?? 0) allows it: \(answer.rule ?? "")"
        default: why = "no rule allows it"
        }
        var lines = ["\(verdict): \(from) -> \(to), \(answer.flow): \(why)."]
        if answer.reason == "rule" || answer.reason == "no-rule" {
            lines.append("\(from) may open to \(to): \(traffic(answer.forward)).")
            lines.append("\(to) may open to \(from): \(traffic(answer.reverse)).")
            if !answer.session { lines.append("No rule connects them either way: they have no WireGuard session.") }
        }
        return lines.joined(separator: "\n")
    }

    /// "" is what the format writes for every protocol.
    static func traffic(_ text: String) -> String { text.isEmpty ? "everything" : text }

    /// Alias and short id, and with `tags` the member's tags in brackets.
    static func name(_ member: MemberTagsView, tags: Bool = true) -> String {
        let tags = !tags || member.tags.isEmpty ? "" : " [\(member.tags.joined(separator: ","))]"
        return (member.alias.map { "\($0) (\(member.shortId))" } ?? member.shortId) + tags
    }
}
