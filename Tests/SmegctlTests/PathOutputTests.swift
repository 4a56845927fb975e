import MeshCore
import Testing

@testable import smegctl

/// How this node reaches each member reaches the operator: a PATH column in `get` (relays by
/// alias), why a pair relays under the table, a PATHS count per mesh in `status`, and a
/// client's direct paths to other clients in the graph.
@Suite struct PathOutputTests {
    static func with(_ id: String, alias: String?, role: String = "peer", path: PathView?) -> MemberView {
        var view = member(id, alias: alias, role: role)
        view.path = path
        return view
    }

    /// This node (a client), two relays p1 and p2, a client it punched through to, one it
    /// relays to for a reason, one it is punching with, and a member from an older daemon.
    static var members: [MemberView] {
        var me = with("aaaaaaaaaaaa", alias: "laptop", role: "client", path: PathView(kind: "self"))
        me.isSelf = true
        return [
            me,
            with("pppp1aaaaaaa", alias: "p1", path: PathView(kind: "direct", endpoint: "198.51.100.1:51820")),
            with("pppp2aaaaaaa", alias: "p2", path: PathView(kind: "direct")),
            with(
                "cccccccccccc", alias: "desk", role: "client",
                path: PathView(kind: "direct", endpoint: "203.0.113.7:51820", sinceSeconds: 12)),
            with(
                "dddddddddddd", alias: "laptop2", role: "client",
                path: PathView(
                    kind: "relayed", via: ["pppp1aaa", "pppp2aaa"],
                    reason: "no handshake on any of 2 candidates (both behind NATs that change ports)")),
            with(
                "eeeeeeeeeeee", alias: nil, role: "client",
                path: PathView(kind: "punching", via: ["pppp1aaa", "ffffffff"])),
            with("gggggggggggg", alias: "old", path: nil),
        ]
    }

    static func path(of alias: String, in table: String) -> String? {
        let rows = IPv4OutputTests.cells(table)
        let column = rows[0].firstIndex(of: "PATH")!
        // No member leads, so no row has a mark before its alias: cells line up with the header.
        return rows.first { $0.first == alias }.map { $0[column] }
    }

    @Test func getsMemberTableHasAPathColumnWithRelaysByAlias() {
        let table = TextTable.members(Self.members)
        let header = IPv4OutputTests.cells(table)[0]
        #expect(Array(header.prefix(6)) == ["ALIAS", "ADDRESS", "IPV4", "ENDPOINT", "PATH", "ROLE"])
        #expect(Self.path(of: "laptop (you)", in: table) == "self")
        #expect(Self.path(of: "p1", in: table) == "direct 198.51.100.1:51820")
        #expect(Self.path(of: "p2", in: table) == "direct")
        #expect(Self.path(of: "desk", in: table) == "direct 203.0.113.7:51820")
        #expect(Self.path(of: "laptop2", in: table) == "relayed via p1 > p2")
        #expect(Self.path(of: "old", in: table) == "-")
        #expect(table.contains("  punching  "), "the member without an alias")
    }

    @Test func whyAPairRelaysIsUnderTheTable() {
        let lines = TextTable.members(Self.members).split(separator: "\n", omittingEmptySubsequences: false)
        let leader = lines.firstIndex(of: "* leader")!
        #expect(
            lines[leader + 1]
                == "why relayed: laptop2: no handshake on any of 2 candidates (both behind NATs that change ports)")
        #expect(lines.count == leader + 2, "one reason, for the one relayed member that has one")
    }

    @Test(arguments: [
        (PathCounts(direct: 2, relayed: 1), "2 direct, 1 relayed"),
        (PathCounts(direct: 1, punching: 1, relayed: 3), "1 direct, 1 punching, 3 relayed"),
        (PathCounts(), "-"),
    ])
    func statusCountsThePathsOfEachMesh(counts: PathCounts, cell: String) {
        var mesh = MeshStatus(
            meshId: "m1", interface: "smegm1", members: 4, leader: "aaaaaaaa", lastSyncSecondsAgo: 0, lastError: nil)
        mesh.paths = counts
        let rows = IPv4OutputTests.cells(
            TextTable.status(
                StatusResponse(version: "t", backend: "kernel", uptimeSeconds: 1, meshes: [mesh]), socket: "/s"))
        let header = rows.firstIndex { $0.first == "MESH" }!
        let column = rows[header].firstIndex(of: "PATHS")!
        #expect(rows[header][column + 1] == "HEALTH")
        #expect(rows[header + 1][column] == cell)
    }

    @Test func countsLeaveThisNodeOut() {
        #expect(PathCounts(Self.members.compactMap(\.path)) == PathCounts(direct: 3, punching: 1, relayed: 1))
        var older = MeshStatus(
            meshId: "m1", interface: "smegm1", members: 1, leader: nil, lastSyncSecondsAgo: nil, lastError: nil)
        older.paths = nil
        #expect(PathText.counts(older.paths) == "-")
    }

    @Test func theGraphDrawsThisClientsDirectPathsToOtherClients() {
        let graph = GraphResponse(meshes: [MeshDetail(mesh: summary("m1"), members: Self.members)])
        let dot = DOTGraph.render(graph)
        // Sorted by id: laptop m0_0, desk m0_1 (direct), laptop2 m0_2 (relayed), m0_3 punching.
        let direct = dot.split(separator: "\n").filter { $0.contains("label=\"direct\"") }
        #expect(direct == [##"        m0_0 -- m0_1 [style=dashed, color="#1565c0", label="direct"];"##])

        // A peer's sessions are the full mesh already drawn: no direct edges from it.
        var members = Self.members
        members[0].role = "peer"
        #expect(
            !DOTGraph.render(GraphResponse(meshes: [MeshDetail(mesh: summary("m1"), members: members)]))
                .contains("label=\"direct\""))
    }
}
