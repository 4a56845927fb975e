import Testing

@testable import MeshCore
@testable import smegctl

/// `smegctl status` says a mesh is reconnecting, since when and why.
@Suite struct ReconnectingOutputTests {
    @Test func statusShowsAReconnectingMeshAndSinceWhen() {
        var mesh = MeshStatus(
            meshId: "m1", interface: "smegm1", members: 4, leader: "aaaaaaaa", lastSyncSecondsAgo: 0, lastError: nil)
        mesh.reconnecting = ReconnectingView(sinceMillis: 1_800_000_000_000, reason: "back after 20 s away")
        let text = TextTable.status(
            StatusResponse(version: "t", backend: "userspace", uptimeSeconds: 1, meshes: [mesh]), socket: "/s")
        #expect(TextTable.health(mesh) == "reconnecting")
        #expect(text.contains("\nMesh m1: reconnecting since 2027-01-15T08:00:00Z: back after 20 s away"))
        mesh.reconnecting = nil
        let healthy = TextTable.status(
            StatusResponse(version: "t", backend: "userspace", uptimeSeconds: 1, meshes: [mesh]), socket: "/s")
        #expect(!healthy.contains("reconnecting"))
        #expect(TextTable.health(mesh) == "ok")
    }
}
