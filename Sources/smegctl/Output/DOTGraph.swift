import MeshAPI

/// Renders meshes as Graphviz DOT.
///
/// Output is deterministic (meshes, nodes and edges sorted), every string is a quoted and
/// escaped DOT ID, and node identifiers are generated, never taken from member data, so no
/// alias can break the syntax or inject attributes.
enum DOTGraph {
    static func render(_ graph: GraphResponse) -> String {
        var out = "graph smegmesh {\n"
        out += "    graph [fontname=\"Helvetica\", overlap=false, splines=true, compound=true];\n"
        out += "    node [fontname=\"Helvetica\", shape=box, style=\"rounded,filled\", fillcolor=\"#eef3fb\"];\n"
        out += "    edge [color=\"#7a869a\"];\n"
        let meshes = graph.meshes.sorted { $0.mesh.meshId < $1.mesh.meshId }
        var clusterOf: [String: Int] = [:]
        var anchors: [Int: String] = [:]  // cluster -> a node inside it, for edges that end at the cluster
        for (index, detail) in meshes.enumerated() {
            clusterOf[detail.mesh.meshId] = index
            if !detail.members.isEmpty { anchors[index] = "m\(index)_0" }
        }
        var nodeNames: [String: String] = [:]  // member id -> DOT node name, shared across meshes
        var bridges: [(String, String)] = []
        var selves: [String] = []
        var bridgeEdges: [String] = []
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
                if member.isSelf { selves.append(name) }
                out += "        \(name) [label=\(quote(nodeLabel(member)))\(nodeStyle(member))];\n"
            }
            out += edges(members, names: localNames, indent: "        ")
            out += directEdges(members, names: localNames, indent: "        ")
            let routes = routeEdges(
                members, names: localNames, meshIndex: meshIndex, clusterOf: clusterOf, anchors: anchors,
                meshes: meshes)
            out += routes.inside
            bridgeEdges += routes.bridges
            out += "    }\n"
        }
        for (from, to) in bridges.sorted(by: { ($0.0, $0.1) < ($1.0, $1.1) }) {
            out += "    \(from) -- \(to) [style=dashed, color=\"#c0392b\", label=\"bridge\"];\n"
        }
        for line in bridgeEdges { out += "    \(line)\n" }
        for (from, to) in zip(selves, selves.dropFirst()) {
            out += "    \(from) -- \(to) [style=dashed, color=\"#2e7d32\", label=\"this node\"];\n"
        }
        out += "}\n"
        return out
    }

    /// Advertised prefixes as small nodes joined to their advertisers, except routes bridged
    /// from a mesh that is in the graph too: those become an edge from the bridge to that
    /// mesh's cluster.
    private static func routeEdges(
        _ members: [MemberView], names: [String: String], meshIndex: Int, clusterOf: [String: Int],
        anchors: [Int: String], meshes: [MeshDetail]
    ) -> (inside: String, bridges: [String]) {
        var routeNodes: [String: String] = [:]  // route label -> node name
        var inside: [String] = []
        var bridges: [String] = []
        for member in members {
            let from = names[member.id]!
            for route in member.routes.sorted(by: { ($0.prefix, $0.path.joined()) < ($1.prefix, $1.path.joined()) }) {
                if let last = route.path.last, let cluster = clusterOf[last], cluster != meshIndex,
                    let anchor = anchors[cluster]
                {
                    let name = meshes[cluster].mesh.name ?? last
                    let line =
                        "\(from) -- \(anchor) [lhead=\"cluster_\(cluster)\", style=dashed, color=\"#c0392b\", "
                        + "label=\(quote("bridge to \(name)"))];"
                    if !bridges.contains(line) { bridges.append(line) }
                    continue
                }
                let label =
                    route.path.isEmpty ? route.prefix : "\(route.prefix)\nvia \(route.path.joined(separator: " > "))"
                let node: String
                if let existing = routeNodes[label] {
                    node = existing
                } else {
                    node = "r\(meshIndex)_\(routeNodes.count)"
                    routeNodes[label] = node
                    inside.append(
                        "        \(node) [label=\(quote(label)), shape=note, style=filled, fillcolor=\"#fff8e1\"];")
                }
                inside.append("        \(from) -- \(node) [style=dashed];")
            }
        }
        return (inside.isEmpty ? "" : inside.joined(separator: "\n") + "\n", bridges)
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

    /// A client's direct paths to other clients (punched through their NATs), dashed: the
    /// paths are this node's view, so only its own pairs are known, and only when it is a client
    /// (peers reach every member through sessions the edges above already draw).
    private static func directEdges(_ members: [MemberView], names: [String: String], indent: String) -> String {
        guard let me = members.first(where: \.isSelf), me.role == "client" else { return "" }
        let lines = members.filter { $0.role == "client" && !$0.isSelf && $0.path?.kind == "direct" }.map {
            "\(indent)\(names[me.id]!) -- \(names[$0.id]!) [style=dashed, color=\"#1565c0\", label=\"direct\"];"
        }
        return lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
    }

    private static func clusterLabel(_ mesh: MeshSummary) -> String {
        let name = mesh.name.map { "\($0) " } ?? ""
        return "\(name)\(mesh.meshId)\n\(mesh.prefix)" + (mesh.ipv4Prefix.map { "\n\($0)" } ?? "")
    }

    private static func nodeLabel(_ member: MemberView) -> String {
        var label = member.alias ?? member.shortId
        if member.isLeader { label += " ★" }
        label += "\n\(member.address)"
        if let ipv4 = member.ipv4 { label += "\n\(ipv4)" }
        label += "\n\(member.role)"
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
