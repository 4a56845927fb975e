import MeshCore
import Testing

@testable import smegctl

/// Both overlay addresses reach the operator: `list` and `get` have an IPV4 column, the mesh
/// header and the lines `create` and `join` print give this node's IPv4 address and the mesh's
/// network, `status` says why this node has none, and the graph labels members with both.
@Suite struct IPv4OutputTests {
    static var withIPv4: MeshSummary {
        var mesh = summary("m1", name: "lab")
        mesh.ipv4Address = "100.64.0.5"
        mesh.ipv4Prefix = "100.64.0.0/16"
        return mesh
    }

    static func member(_ id: String, alias: String, ipv4: String?) -> MemberView {
        var view = fixtureMember(id, alias: alias)
        view.ipv4 = ipv4
        return view
    }

    /// Cells of each line of a table rendered by `TextTable.render` (two spaces or more apart).
    static func cells(_ table: String) -> [[String]] {
        table.split(separator: "\n").map { line in
            line.split(separator: "  ", omittingEmptySubsequences: true).map {
                $0.trimmingCharacters(in: .whitespaces)
            }.filter { !$0.isEmpty }
        }
    }

    @Test func getsMemberTableHasAnIPv4ColumnAfterTheAddress() {
        let table = TextTable.members([
            Self.member("aaaaaaaaaaaa", alias: "db", ipv4: "100.64.0.7"),
            Self.member("bbbbbbbbbbbb", alias: "web", ipv4: nil),
        ])
        let rows = Self.cells(table)
        #expect(Array(rows[0].prefix(3)) == ["ALIAS", "ADDRESS", "IPV4"])
        #expect(Array(rows[1].prefix(3)) == ["db", "fd00::12", "100.64.0.7"])
        #expect(Array(rows[2].prefix(3)) == ["web", "fd00::12", "-"])
    }

    @Test func listHasAnIPv4Column() {
        let rows = Self.cells(TextTable.meshes([Self.withIPv4, summary("m2")]))
        #expect(Array(rows[0].prefix(5)) == ["MESH", "NAME", "INTERFACE", "ADDRESS", "IPV4"])
        #expect(Array(rows[1].prefix(5)) == ["m1", "lab", "smegm1", "fd00::1", "100.64.0.5"])
        #expect(Array(rows[2].prefix(5)) == ["m2", "-", "smegm2", "fd00::1", "-"])
    }

    @Test func theMeshHeaderGivesBothPrefixesAndBothAddresses() {
        let lines = TextTable.meshHeader(Self.withIPv4).split(separator: "\n").map(String.init)
        #expect(lines[0] == "Mesh m1 (lab): 3 members, prefixes fd00::/64 and 100.64.0.0/16, interface smegm1")
        #expect(lines[1] == "This node: fd00::1, IPv4 100.64.0.5, role peer")
        var waiting = Self.withIPv4
        waiting.ipv4Address = nil
        let second = TextTable.meshHeader(waiting).split(separator: "\n").map(String.init)[1]
        #expect(second == "This node: fd00::1, IPv4 none yet (see `smegctl status`), role peer")
        // A mesh without IPv4 reads as before.
        let old = TextTable.meshHeader(summary("m2")).split(separator: "\n").map(String.init)
        #expect(old[0] == "Mesh m2: 3 members, prefix fd00::/64, interface smegm2")
        #expect(old[1] == "This node: fd00::1, role peer")
    }

    /// What `create` and `join` print after "this node: ".
    @Test func createAndJoinPrintBothAddressesInTheirNetworks() {
        #expect(
            TextTable.ownAddresses(Self.withIPv4, withPrefixes: true)
                == "fd00::1 in fd00::/64, IPv4 100.64.0.5 in 100.64.0.0/16")
        #expect(TextTable.ownAddresses(summary("m2"), withPrefixes: true) == "fd00::1 in fd00::/64")
    }

    @Test func statusSaysWhyThisNodeHasNoIPv4Address() {
        var mesh = MeshStatus(
            meshId: "m1", interface: "smegm1", members: 2, leader: "aaaaaaaa", lastSyncSecondsAgo: 1, lastError: nil)
        mesh.ipv4Problem = "no IPv4 address yet: an owner gives this node one (automatic while one is online)"
        let text = TextTable.status(
            StatusResponse(version: "t", backend: "none", uptimeSeconds: 1, meshes: [mesh]), socket: "/s")
        #expect(
            text.contains(
                "\nMesh m1: no IPv4 address yet: an owner gives this node one (automatic while one is online)"))
        mesh.ipv4Problem = nil
        let healthy = TextTable.status(
            StatusResponse(version: "t", backend: "none", uptimeSeconds: 1, meshes: [mesh]), socket: "/s")
        #expect(!healthy.contains("IPv4"))
    }

    @Test func theGraphLabelsMembersWithBothAddressesAndTheClusterWithBothPrefixes() {
        let graph = GraphResponse(meshes: [
            MeshDetail(
                mesh: Self.withIPv4,
                members: [
                    Self.member("aaaaaaaaaaaa", alias: "db", ipv4: "100.64.0.7"),
                    Self.member("bbbbbbbbbbbb", alias: "web", ipv4: nil),
                ])
        ])
        let dot = DOTGraph.render(graph)
        #expect(dot.contains(#"label="db\nfd00::12\n100.64.0.7\npeer""#))
        #expect(dot.contains(#"label="web\nfd00::12\npeer""#))
        #expect(dot.contains(#"label="lab m1\nfd00::/64\n100.64.0.0/16";"#))
    }
}

/// The shared fixture of DOTGraphTests, under a name this suite's own `member` does not shadow.
private func fixtureMember(_ id: String, alias: String) -> MemberView {
    member(id, alias: alias)
}
