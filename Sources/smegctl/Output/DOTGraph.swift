import MeshCore

/// Renders meshes as Graphviz DOT.
///
/// Output is deterministic (meshes, nodes and edges sorted), every string is a quoted and
/// escaped DOT ID, and node identifiers are generated, never taken from member data, so no
/// alias can break the syntax or inject attributes.
enum DOTGraph {
    static func render(_ graph: GraphResponse) -> String {
        var out = "graph smegmesh {\n"
        out += "    graph [fontname=\"Helvetica\", overlap=false, splines=true];\n"
        out += "    node [fontname=\"Helvetica\", shape=box, style=\"rounded,filled\", fillcolor=\"#eef3fb\"];\n"
        out += "    edge [color=\"#7a869a\"];\n"
        let meshes = graph.meshes.sorted { $0.mesh.meshId < $1.mesh.meshId }
        var nodeNames: [String: String] = [:]  // member id -> DOT node name, shared across meshes
        var bridges: [(String, String)] = []
        for (meshIndex, detail) in meshes.enumerated() {
            out += "    subgraph \"cluster_\(meshIndex)\" {\n"
            out += "        label=\(quote(clusterLabel(detail.mesh)));\n"
            out += "        style=\"rounded\"; color=\"#4a6fa5\";\n"
            let members = detail.members.sorted { $0.id < $1.id }
            var localNames: [String: String] = [:]
            for (memberIndex, member) in members.enumerated() {
                let name = "m\(meshIndex)_\(memberIndex)"
                localNames[member.id] = name
                if let earlier = nodeNames[member.id] {
                    bridges.append((earlier, name))
                } else {
                    nodeNames[member.id] = name
                }
                out += "        \(name) [label=\(quote(nodeLabel(member)))\(nodeStyle(member))];\n"
            }
            out += edges(members, names: localNames, indent: "        ")
            out += "    }\n"
        }
        for (from, to) in bridges.sorted(by: { ($0.0, $0.1) < ($1.0, $1.1) }) {
            out += "    \(from) -- \(to) [style=dashed, color=\"#c0392b\", label=\"bridge\"];\n"
        }
        out += "}\n"
        return out
    }

    /// Peers form a full mesh; a client hangs off the peer it attaches through (or every peer
    /// while that is unknown).
    private static func edges(_ members: [MemberView], names: [String: String], indent: String) -> String {
        var lines: [String] = []
        let peers = members.filter { $0.role != "client" }
        for (index, left) in peers.enumerated() {
            for right in peers[(index + 1)...] {
                lines.append("\(indent)\(names[left.id]!) -- \(names[right.id]!);")
            }
        }
        for client in members where client.role == "client" {
            let via = peers.first { $0.shortId == client.via }
            for peer in via.map({ [$0] }) ?? peers {
                lines.append("\(indent)\(names[peer.id]!) -- \(names[client.id]!) [style=dotted];")
            }
        }
        return lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
    }

    private static func clusterLabel(_ mesh: MeshSummary) -> String {
        let name = mesh.name.map { "\($0) " } ?? ""
        return "\(name)\(mesh.meshId)\n\(mesh.prefix)"
    }

    private static func nodeLabel(_ member: MemberView) -> String {
        var label = member.alias ?? member.shortId
        if member.isLeader { label += " ★" }
        label += "\n\(member.address)\n\(member.role)"
        for route in member.routes.sorted(by: { $0.prefix < $1.prefix }) {
            label += "\n→ \(route.prefix)"
        }
        return label
    }

    private static func nodeStyle(_ member: MemberView) -> String {
        var attributes = ""
        if member.role == "client" { attributes += ", fillcolor=\"#f7f7f7\", shape=ellipse" }
        if member.isLeader { attributes += ", penwidth=2" }
        if member.isSelf { attributes += ", color=\"#2e7d32\"" }
        return attributes
    }

    /// A DOT double-quoted ID: backslash and quote escaped, newlines as `\n` line breaks, other
    /// control characters dropped.
    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f { continue }
                out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
