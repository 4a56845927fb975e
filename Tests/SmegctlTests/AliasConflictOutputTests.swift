import MeshCore
import Testing

@testable import smegctl

/// Void alias claims reach the operator: `get` lists each under the members, `status` under the
/// meshes, and the graph names such a member by its short id.
@Suite struct AliasConflictOutputTests {
    static let conflict = AliasConflictView(
        shortId: "cccccccc", alias: "web", heldBy: "bbbbbbbb", reason: "held by bbbbbbbb, which has a lower key")

    static var thief: MemberView {
        var view = member("cccccccccccc", alias: nil)
        view.aliasConflict = conflict
        return view
    }

    @Test func getListsEveryVoidClaimAfterTheTable() {
        let table = TextTable.members([member("bbbbbbbbbbbb", alias: "web"), Self.thief])
        let lines = table.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[2].hasPrefix("  -  ") && lines[2].hasSuffix("cccccccc"))
        #expect(
            lines.last
                == "! cccccccc claims alias 'web', which is held by bbbbbbbb, which has a lower key: it has no alias")
        #expect(!TextTable.members([member("bbbbbbbbbbbb", alias: "web")]).contains("!"))
    }

    @Test func statusNamesTheMeshAndEachClaim() {
        let mesh = MeshStatus(
            meshId: "m1", interface: "smegm1", members: 2, leader: "bbbbbbbb", lastSyncSecondsAgo: 1,
            lastError: nil, aliasConflicts: [Self.conflict])
        let text = TextTable.status(
            StatusResponse(version: "1", backend: "none", uptimeSeconds: 5, meshes: [mesh]), socket: "/s")
        #expect(text.contains("Mesh m1: 1 alias claim(s) void"))
        #expect(text.hasSuffix("  cccccccc claims 'web', held by bbbbbbbb, which has a lower key"))
        var quiet = mesh
        quiet.aliasConflicts = nil
        #expect(
            !TextTable.status(
                StatusResponse(version: "1", backend: "none", uptimeSeconds: 5, meshes: [quiet]), socket: "/s"
            )
            .contains("claims"))
    }

    @Test func theGraphLabelsAMemberWithAVoidClaimByItsShortId() {
        let graph = GraphResponse(meshes: [MeshDetail(mesh: summary("a"), members: [Self.thief])])
        let dot = DOTGraph.render(graph)
        #expect(dot.contains("cccccccc") && !dot.contains("web"))
    }
}
