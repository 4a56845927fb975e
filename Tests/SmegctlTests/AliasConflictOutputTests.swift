import MeshCore
import Testing

@testable import smegctl

/// Void alias claims reach the operator: `get` lists each under the members, `status` under the
/// meshes, and the graph names such a member by its short id.
@Suite struct AliasConflictOutputTests {
    static let conflict = AliasConflictView(
        shortId: "cccccccc", alias: "web", contestedWith: ["bbbbbbbb"],
        reason: "contested by bbbbbbbb, so void for every claimant")

    static var thief: MemberView {
        var view = member("cccccccccccc", alias: nil)
        view.aliasConflict = conflict
        return view
    }

    @Test func getListsEveryVoidClaimAfterTheTable() {
        var victim = member("bbbbbbbbbbbb", alias: nil)
        victim.aliasConflict = AliasConflictView(
            shortId: "bbbbbbbb", alias: "web", contestedWith: ["cccccccc"],
            reason: "contested by cccccccc, so void for every claimant")
        let table = TextTable.members([victim, Self.thief])
        let lines = table.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[1].hasPrefix("  -  ") && lines[1].hasSuffix("bbbbbbbb"))
        #expect(lines[2].hasPrefix("  -  ") && lines[2].hasSuffix("cccccccc"))
        let tail = ", so void for every claimant: it has no alias"
        #expect(
            lines.suffix(2) == [
                "! bbbbbbbb claims alias 'web', which is contested by cccccccc" + tail,
                "! cccccccc claims alias 'web', which is contested by bbbbbbbb" + tail,
            ])
        #expect(!TextTable.members([member("bbbbbbbbbbbb", alias: "web")]).contains("!"))
    }

    /// The daemon's reason names one other claimant; the line names them all, up to three.
    @Test func aCrowdedContestListsTheFirstClaimantsAndCountsTheRest() {
        func line(_ others: [String]) -> String {
            TextTable.reason(
                AliasConflictView(shortId: "aaaaaaaa", alias: "web", contestedWith: others, reason: "from the daemon"))
        }
        #expect(line(["bbbbbbbb", "cccccccc"]) == "contested by bbbbbbbb, cccccccc, so void for every claimant")
        #expect(
            line(["11111111", "22222222", "33333333", "44444444", "55555555"])
                == "contested by 11111111, 22222222, 33333333 and 2 more, so void for every claimant")
        let shaped = AliasConflictView(
            shortId: "aaaaaaaa", alias: "deadbeef", contestedWith: nil, reason: "shaped like a short id (8 hex digits)")
        #expect(TextTable.reason(shaped) == "shaped like a short id (8 hex digits)")
    }

    @Test func statusNamesTheMeshAndEachClaim() {
        let mesh = MeshStatus(
            meshId: "m1", interface: "smegm1", members: 2, leader: "bbbbbbbb", lastSyncSecondsAgo: 1,
            lastError: nil, aliasConflicts: [Self.conflict])
        let text = TextTable.status(
            StatusResponse(version: "1", backend: "none", uptimeSeconds: 5, meshes: [mesh]), socket: "/s")
        #expect(text.contains("Mesh m1: 1 alias claim(s) void"))
        #expect(text.hasSuffix("  cccccccc claims 'web', contested by bbbbbbbb, so void for every claimant"))
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
