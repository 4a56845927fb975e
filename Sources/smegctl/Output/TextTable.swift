import MeshAPI

/// Plain-text tables for people; `--json` is the interface for scripts.
enum TextTable {
    /// Left-aligned columns separated by two spaces, header first.
    static func render(_ header: [String], _ rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        let lines = ([header] + rows).map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count)
            }.joined(separator: "  ")
        }
        return lines.joined(separator: "\n")
    }

    static func meshes(_ meshes: [MeshSummary]) -> String {
        render(
            ["MESH", "NAME", "INTERFACE", "ADDRESS", "IPV4", "ROLE", "MEMBERS", "LEADER"],
            meshes.map { mesh in
                [
                    mesh.meshId, mesh.name ?? "-", mesh.interface, mesh.address, mesh.ipv4Address ?? "-", mesh.role,
                    "\(mesh.members)", mesh.isLeader ? "this node" : (mesh.leader ?? "unknown"),
                ]
            })
    }

    /// "fd..., IPv4 100.64.3.7" for the lines that say where this node is: the IPv4 part only
    /// for a mesh with an IPv4 network, "none yet" while this node holds no address in it.
    static func ownAddresses(_ mesh: MeshSummary, withPrefixes: Bool = false) -> String {
        var text = mesh.address + (withPrefixes ? " in \(mesh.prefix)" : "")
        if let prefix = mesh.ipv4Prefix {
            text += ", IPv4 " + (mesh.ipv4Address ?? "none yet (see `smegctl status`)")
            if withPrefixes, mesh.ipv4Address != nil { text += " in \(prefix)" }
        }
        return text
    }

    static func meshHeader(_ mesh: MeshSummary) -> String {
        let name = mesh.name.map { " (\($0))" } ?? ""
        var text = """
            Mesh \(mesh.meshId)\(name): \(mesh.members) members, \(prefixes(mesh)), interface \(mesh.interface)
            This node: \(ownAddresses(mesh)), role \(mesh.role)\(mesh.isLeader ? ", leader" : "")\(mesh.bridge == true ? ", bridges its other meshes in" : "")
            """
        if let policy = mesh.policy {
            var allowed: [String] = []
            if policy.allowExitNodes == true { allowed.append("exit nodes") }
            if policy.allowBridgedMeshes == true { allowed.append("bridged meshes") }
            allowed += policy.allowedPrefixes ?? []
            text += "\nRoutes allowed besides the mesh's own /48: " + allowed.joined(separator: ", ")
        }
        if let signed = mesh.settingsSigned { text += "\n" + settingsLine(signed: signed, owner: mesh.owner) }
        return text
    }

    /// "prefix fd...::/64", or "prefixes fd...::/64 and 100.64.0.0/16" for a mesh with IPv4.
    static func prefixes(_ mesh: MeshSummary) -> String {
        guard let ipv4 = mesh.ipv4Prefix else { return "prefix \(mesh.prefix)" }
        return "prefixes \(mesh.prefix) and \(ipv4)"
    }

    /// Whether the name and route policy above can be trusted, and on whose word.
    static func settingsLine(signed: Bool, owner: String?) -> String {
        if signed { return "Settings signed by the mesh's owner" + (owner.map { " \($0)" } ?? "") }
        return "Settings NOT signed: the mesh predates owners, so its name and route policy are only what this "
            + "node stored"
    }

    /// Members sorted by alias then id, the leader marked with `*`, this node with `(you)`;
    /// PATH says how this node reaches each, and why a pair relays goes under the table.
    static func members(_ members: [MemberView]) -> String {
        let sorted = members.sorted { ($0.alias ?? "~" + $0.shortId, $0.id) < ($1.alias ?? "~" + $1.shortId, $1.id) }
        let names = PathText.names(members)
        let why = PathText.whyRelayed(sorted)
        // Tags get a column only in meshes that use them (docs/acl.md).
        let tagged = members.contains { !($0.tags ?? []).isEmpty }
        let headers = ["", "ALIAS", "ADDRESS", "IPV4", "ENDPOINT", "PATH", "ROLE", "LAST SEEN", "ROUTES"]
        let rows = sorted.map { member -> [String] in
            var row = [
                member.isLeader ? "*" : "",
                (member.alias ?? "-") + (member.isSelf ? " (you)" : ""),
                member.address, member.ipv4 ?? "-",
                member.endpoints.first ?? (member.via.map { "via \($0)" } ?? "-"),
                PathText.cell(member.path, names: names),
                member.role + (member.isOwner == true ? ", owner" : "") + (member.evicted != nil ? ", EVICTED" : ""),
                member.isSelf ? "now" : lastSeen(member.lastSeenSeconds),
                member.routes.isEmpty ? "-" : member.routes.map(\.prefix).joined(separator: ","),
            ]
            if tagged { row.append(member.tags.map { $0.joined(separator: ",") } ?? "-") }
            row.append(member.shortId)
            return row
        }
        return render(headers + (tagged ? ["TAGS", "ID"] : ["ID"]), rows) + "\n\n* leader"
            + (why.isEmpty ? "" : "\n" + why.joined(separator: "\n"))
            + aliasConflicts(sorted.compactMap(\.aliasConflict))
    }

    /// One line per void alias claim, after a blank line; empty when there are none.
    static func aliasConflicts(_ conflicts: [AliasConflictView]) -> String {
        guard !conflicts.isEmpty else { return "" }
        let lines = conflicts.map { conflict in
            "! \(conflict.shortId) claims alias '\(conflict.alias)', which is \(reason(conflict)): it has no alias"
        }
        return "\n\n" + lines.joined(separator: "\n")
    }

    /// The daemon's reason names one other claimant; a contest can have many, and every one of
    /// them has lost the name, so the line lists them (the first few, on a crowded name).
    static func reason(_ conflict: AliasConflictView) -> String {
        guard let others = conflict.contestedWith, !others.isEmpty else { return conflict.reason }
        let shown = others.prefix(3).joined(separator: ", ")
        let more = others.count > 3 ? " and \(others.count - 3) more" : ""
        return "contested by \(shown)\(more), so void for every claimant"
    }

    /// The prefixes this node routes into the mesh, with members named by alias where known.
    static func routing(_ routing: [RouteChoiceView], members: [MemberView]) -> String {
        let names = PathText.names(members)
        return render(
            ["ROUTE", "EXIT", "VIA", "HOPS"],
            routing.map { choice in
                [
                    choice.prefix, choice.exit.map { names[$0] ?? $0 } ?? "(chosen by the peer)",
                    names[choice.via] ?? choice.via, "\(choice.hopCount)",
                ]
            })
    }

    static func status(_ status: StatusResponse, socket: String) -> String {
        var lines = [
            "smegd \(status.version), backend \(status.backend), up \(duration(status.uptimeSeconds)), socket \(socket)"
        ]
        if status.meshes.isEmpty {
            lines.append("No meshes. Start one with `smegctl create` or join with `smegctl join TOKEN`.")
            return lines.joined(separator: "\n")
        }
        lines.append("")
        lines.append(
            render(
                ["MESH", "INTERFACE", "MEMBERS", "LEADER", "LAST SYNC", "SETTINGS", "OWNERS", "PATHS", "HEALTH"],
                status.meshes.map { mesh in
                    [
                        mesh.meshId, mesh.interface, "\(mesh.members)", mesh.leader ?? "none yet",
                        mesh.lastSyncSecondsAgo.map { duration($0) + " ago" } ?? "never",
                        mesh.settingsSigned.map { $0 ? "signed" : "unsigned" } ?? "-",
                        ownerCell(mesh), PathText.counts(mesh.paths), health(mesh),
                    ]
                }))
        for mesh in status.meshes {
            let conflicts = mesh.aliasConflicts ?? []
            guard !conflicts.isEmpty else { continue }
            lines.append("")
            lines.append("Mesh \(mesh.meshId): \(conflicts.count) alias claim(s) void (names are unique, docs/dns.md):")
            lines += conflicts.map { "  \($0.shortId) claims '\($0.alias)', \(reason($0))" }
        }
        for mesh in status.meshes {
            guard let reconnecting = mesh.reconnecting else { continue }
            lines.append("")
            lines.append(
                "Mesh \(mesh.meshId): reconnecting since \(timestamp(reconnecting.sinceMillis)): \(reconnecting.reason)"
            )
        }
        for mesh in status.meshes {
            guard let problem = mesh.ipv4Problem else { continue }
            lines.append("")
            lines.append("Mesh \(mesh.meshId): \(problem)")
        }
        for mesh in status.meshes {
            guard let old = mesh.oldFrameVersion, !old.isEmpty else { continue }
            lines.append("")
            lines.append(
                "Mesh \(mesh.meshId): \(old.count) member(s) still speak frame version 1 and are refused until "
                    + "upgraded: \(old.joined(separator: ", "))")
        }
        lines += ownerLines(status.meshes)
        return lines.joined(separator: "\n")
    }

    static func health(_ mesh: MeshStatus) -> String {
        if mesh.evicted != nil { return "evicted" }
        if mesh.started == false { return "not started: \(mesh.lastError ?? "unknown error")" }
        return mesh.lastError.map { "error: \($0)" } ?? (mesh.reconnecting == nil ? "ok" : "reconnecting")
    }

    static func lastSeen(_ seconds: Double?) -> String {
        guard let seconds else { return "never" }
        return duration(seconds) + " ago"
    }

    static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded(.down))
        if whole < 60 { return "\(whole)s" }
        if whole < 3600 { return "\(whole / 60)m\(whole % 60)s" }
        if whole < 86400 { return "\(whole / 3600)h\(whole % 3600 / 60)m" }
        return "\(whole / 86400)d\(whole % 86400 / 3600)h"
    }
}

/// The filters of `smegctl query`.
struct MemberFilter {
    var alias: String?
    var role: String?
    var service: String?

    func matches(_ member: MemberView) -> Bool {
        if let alias {
            let name = member.alias ?? ""
            if alias.hasSuffix("*") {
                guard name.hasPrefix(alias.dropLast()) else { return false }
            } else if name != alias {
                return false
            }
        }
        if let role, member.role != role { return false }
        if let service {
            let parts = service.split(separator: "=", maxSplits: 1).map(String.init)
            guard let value = member.services[parts[0]] else { return false }
            if parts.count == 2, value != parts[1] { return false }
        }
        return true
    }
}
