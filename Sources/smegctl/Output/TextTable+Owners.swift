import MeshAPI

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Owners, evictions and removals, as `owner list`, `get` and `status` print them.
extension TextTable {
    static func owners(_ response: OwnersResponse) -> String {
        guard !response.owners.isEmpty else {
            return "Mesh \(response.meshId) has no owners: it was made before owners existed."
        }
        let table = render(
            ["SENIORITY", "ALIAS", "ID", "SIGNING KEY"],
            response.owners.map { owner in
                [
                    owner.isFounder ? "founder" : "\(owner.seniority)",
                    (owner.alias ?? "-") + (owner.isSelf ? " (you)" : ""), owner.shortId, owner.signingKey,
                ]
            })
        var text = table + "\n\nAn owner's decisions bind only owners below it in this list."
        if response.owners.count == 1 {
            text += "\nOnly one owner: make another member an owner with `smegctl owner add \(response.meshId) MEMBER`."
        }
        return text
    }

    /// Members no longer present, told apart (evicted, left, pruned); empty when there are none.
    static func removed(_ removed: [RemovedMemberView]) -> String {
        guard !removed.isEmpty else { return "" }
        return "\n\nNo longer members:\n"
            + render(
                ["ALIAS", "ID", "STATE", "BY"],
                removed.map { member in
                    [
                        member.alias ?? "-", member.shortId, member.state,
                        member.evicted.map { "\($0.by), \(timestamp($0.atMillis))" } ?? "-",
                    ]
                })
    }

    /// Owner counts, single-owner warnings and evictions under the status table.
    static func ownerLines(_ meshes: [MeshStatus]) -> [String] {
        var lines: [String] = []
        for mesh in meshes {
            if let eviction = mesh.evicted {
                lines += [
                    "",
                    "Mesh \(mesh.meshId): this node was EVICTED by \(eviction.by) at \(timestamp(eviction.atMillis)).",
                ]
            }
            for warning in mesh.warnings ?? [] { lines += ["", "Mesh \(mesh.meshId): warning: \(warning)"] }
        }
        return lines
    }

    static func ownerCell(_ mesh: MeshStatus) -> String {
        guard let owners = mesh.owners else { return "-" }
        return "\(owners)" + (mesh.isOwner == true ? " (you)" : "")
    }

    static func timestamp(_ millis: UInt64) -> String {
        let date = Date(timeIntervalSince1970: Double(millis) / 1000)
        return date.formatted(.iso8601)
    }
}
