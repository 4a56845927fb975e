import MeshCore
import Testing

@testable import smegctl

/// What `get` and `status` say about whether a mesh's settings are signed, and about a mesh the
/// daemon could not start.
@Suite struct SettingsTextTests {
    @Test func headerSaysWhoSignedTheSettings() {
        var mesh = summary("m1")
        #expect(!TextTable.meshHeader(mesh).contains("Settings"))  // an older daemon says nothing
        mesh.settingsSigned = true
        mesh.owner = "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="
        #expect(TextTable.meshHeader(mesh).hasSuffix("Settings signed by the mesh's owner " + mesh.owner!))
        mesh.settingsSigned = false
        mesh.owner = nil
        #expect(TextTable.meshHeader(mesh).contains("Settings NOT signed"))
    }

    @Test func statusShowsSettingsAndMeshesThatDidNotStart() {
        let running = MeshStatus(
            meshId: "m1", interface: "smegm1", members: 2, leader: "aaaaaaaa", lastSyncSecondsAgo: 1, lastError: nil,
            settingsSigned: false, started: true)
        let broken = MeshStatus(
            meshId: "m2", interface: "smegm2", members: 0, leader: nil, lastSyncSecondsAgo: nil,
            lastError: "key file /k does not exist", settingsSigned: nil, started: false)
        let text = TextTable.status(
            StatusResponse(version: "1", backend: "none", uptimeSeconds: 5, meshes: [running, broken]), socket: "/s")
        let lines = text.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("m1") && $0.contains("unsigned") && $0.hasSuffix("ok") })
        #expect(lines.contains { $0.hasPrefix("m2") && $0.hasSuffix("not started: key file /k does not exist") })
    }
}
