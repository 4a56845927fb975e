import Testing

@testable import MeshCore
@testable import smegd

/// What the daemon refuses up front so that its own record never breaks the mesh's rules, and
/// which endpoint policy it runs.
@Suite struct RecordRulesTests {
    static let mesh = MeshID(bytes: Array(0..<10))!

    func check(_ options: MeshOptions) -> ControlError? {
        do {
            try MeshOptionsCheck.validate(options, mesh: Self.mesh, policy: .default)
            return nil
        } catch let error as ControlError {
            return error
        } catch {
            Issue.record("unexpected \(error)")
            return nil
        }
    }

    @Test(arguments: ["deadbeef", "00000000", "1a2b3c4d"])
    func createAndJoinRefuseAnAliasNoNodeCanHold(alias: String) {
        let error = check(MeshOptions(alias: alias))
        #expect(error?.status == 400)
        #expect(error?.message.contains("short id") == true)
    }

    @Test(arguments: ["web", "deadbeefs", "deadbee", "db-1"])
    func otherLabelsAreAccepted(alias: String) {
        #expect(check(MeshOptions(alias: alias)) == nil)
    }

    @Test func refusedEndpointsAreRefusedAtCreateWithTheReason() {
        let overlay = OverlayAddress.derive(mesh: Self.mesh, wireGuardKey: Fixtures.key)
        for text in ["127.0.0.1:51820", "[::1]:51820", "0.1.2.3:51820", "[\(overlay)]:51820", "239.1.1.1:51820"] {
            let error = check(MeshOptions(endpoint: text))
            #expect(error?.status == 400 && error?.message.contains("is refused") == true, "\(text)")
        }
        #expect(check(MeshOptions(endpoint: "127.0.0.1:51820"))?.message.contains("loopback") == true)
        for text in ["10.0.0.1:51820", "192.168.1.20:51820", "[fe80::1]:51820", "203.0.113.7:51820"] {
            #expect(check(MeshOptions(endpoint: text)) == nil, "\(text)")
        }
    }

    @Test func onlyControlPlaneOnlyDaemonsAcceptLoopback() {
        var config = DaemonConfig()
        #expect(MeshSettings(config: config, gossipPort: 1).endpointPolicy == .strict)
        config.controlPlaneOnly = true
        #expect(MeshSettings(config: config, gossipPort: 1).endpointPolicy == .loopbackLab)
    }

    enum Fixtures {
        static let key = try! NodeIdentity(seed: Array(0..<32)).wireGuardPublicKey
    }
}
