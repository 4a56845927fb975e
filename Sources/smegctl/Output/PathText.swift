import MeshAPI

/// How `get`, `status` and `ping` word the path this node's packets take to a member
/// (`PathView`), with relays named by alias where the mesh's members are at hand.
enum PathText {
    /// Short id to the name a person knows the member by: its alias, else the short id.
    static func names(_ members: [MemberView]) -> [String: String] {
        var names: [String: String] = [:]
        for member in members { names[member.shortId] = member.alias ?? member.shortId }
        return names
    }

    /// "p1 > p2": the relays in the order packets cross them.
    static func relays(_ via: [String], names: [String: String]) -> String {
        via.map { names[$0] ?? $0 }.joined(separator: " > ")
    }

    /// The PATH cell: "direct 203.0.113.7:51820", "relayed via p1 > p2", "punching", "self";
    /// "-" when the daemon predates paths.
    static func cell(_ path: PathView?, names: [String: String]) -> String {
        guard let path else { return "-" }
        switch path.kind {
        case "direct": return path.endpoint.map { "direct \($0)" } ?? "direct"
        case "relayed": return path.via.isEmpty ? "relayed" : "relayed via \(relays(path.via, names: names))"
        default: return path.kind
        }
    }

    /// One line per member that relays for a reason, for under the member table: the reason is
    /// too long for a cell and is what an operator acts on (a NAT to change, a port to open).
    static func whyRelayed(_ members: [MemberView]) -> [String] {
        members.compactMap { member in
            guard let path = member.path, path.kind == "relayed", let reason = path.reason else { return nil }
            return "why relayed: \(member.alias ?? member.shortId): \(reason)"
        }
    }

    /// The status table's PATHS cell: "2 direct, 1 relayed", the kinds with none left out; "-"
    /// for a mesh with no other member, or a daemon that predates paths.
    static func counts(_ counts: PathCounts?) -> String {
        guard let counts else { return "-" }
        let parts = [(counts.direct, "direct"), (counts.punching, "punching"), (counts.relayed, "relayed")]
            .filter { $0.0 > 0 }.map { "\($0.0) \($0.1)" }
        return parts.isEmpty ? "-" : parts.joined(separator: ", ")
    }
}
