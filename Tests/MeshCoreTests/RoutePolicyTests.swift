import Testing

@testable import MeshCore

@Suite struct RoutePolicyTests {
    let mesh = Fixtures.mesh1

    func route(_ text: String, path: [MeshID] = []) -> AdvertisedRoute {
        AdvertisedRoute(prefix: IPPrefix(text)!, path: path)
    }

    @Test func defaultAcceptsOnlyTheMeshSiteOutsideTheMemberPrefix() {
        let policy = RoutePolicy.default
        #expect(policy.violation(of: route("fd45:d5b5:95eb:1::/64"), in: mesh) == nil)
        #expect(policy.violation(of: route("fd45:d5b5:95eb:ff00::/56"), in: mesh) == nil)
        for hijack in [
            "8.8.8.8/32", "10.0.0.0/8", "::/0", "0.0.0.0/0", "2001:db8::/32", "fd00::/8",
            "fd45:d5b5:95eb::/48",  // covers the member /64
            "fd45:d5b5:95eb::/64",  // is the member /64
            "fd45:d5b5:95eb:0:5d34:7def:a56d:b765/128",  // captures one member's address
            "fd45:d5b5:95ec::/64",
        ] {
            #expect(policy.violation(of: route(hijack), in: mesh) != nil, "\(hijack) must be refused")
        }
    }

    @Test func exitNodesNeedExplicitPermission() {
        let policy = RoutePolicy(allowExitNodes: true)
        #expect(policy.violation(of: route("::/0"), in: mesh) == nil)
        #expect(policy.violation(of: route("0.0.0.0/0"), in: mesh) == nil)
        #expect(policy.violation(of: route("8.8.8.8/32"), in: mesh) != nil)
    }

    @Test func allowedPrefixesCoverTheirSubnets() {
        let policy = RoutePolicy(allowedPrefixes: [IPPrefix("192.168.0.0/16")!])
        #expect(policy.violation(of: route("192.168.1.0/24"), in: mesh) == nil)
        #expect(policy.violation(of: route("192.168.0.0/16"), in: mesh) == nil)
        #expect(policy.violation(of: route("192.0.0.0/8"), in: mesh) != nil)
        #expect(policy.violation(of: route("0.0.0.0/0"), in: mesh) != nil)
    }

    @Test func allowedPrefixesNeverOverrideTheMemberPrefix() {
        let policy = RoutePolicy(allowedPrefixes: [IPPrefix("fd00::/8")!])
        #expect(policy.violation(of: route("fd45:d5b5:95eb:0:5d34:7def:a56d:b765/128"), in: mesh) != nil)
        #expect(policy.violation(of: route("fd99::/16"), in: mesh) == nil)
    }

    @Test func bridgedMeshRoutesMustMatchTheirOrigin() {
        let other = Fixtures.mesh2
        let otherSite = OverlayAddress.meshSitePrefix(of: other).description
        #expect(RoutePolicy.default.violation(of: route(otherSite, path: [other]), in: mesh) != nil)
        let policy = RoutePolicy(allowBridgedMeshes: true)
        #expect(policy.violation(of: route(otherSite, path: [other]), in: mesh) == nil)
        #expect(policy.violation(of: route("fdff:60dd:d1a5::/64", path: [other]), in: mesh) == nil)
        // Claiming another mesh's route with a made-up origin does not pass.
        #expect(policy.violation(of: route("fd12::/48", path: [other]), in: mesh) != nil)
    }

    @Test func loopsAreRefused() {
        let policy = RoutePolicy(allowBridgedMeshes: true, allowedPrefixes: [IPPrefix("10.0.0.0/8")!])
        #expect(policy.violation(of: route("10.1.0.0/16", path: [Fixtures.mesh2, mesh]), in: mesh) != nil)
        #expect(policy.violation(of: route("10.1.0.0/16", path: [Fixtures.mesh2, Fixtures.mesh2]), in: mesh) != nil)
        #expect(policy.violation(of: route("10.1.0.0/16", path: [Fixtures.mesh2]), in: mesh) == nil)
    }

    @Test func recordsWithOutOfPolicyRoutesAreRejected() throws {
        var record = Fixtures.record()
        record.routes = [route("8.8.8.8/32")]
        #expect(throws: RecordRejection.self) {
            try SignedNodeRecord.sign(record, identity: Fixtures.identity1, mesh: mesh)
        }
        let permissive = RoutePolicy(allowedPrefixes: [IPPrefix("8.8.8.0/24")!])
        let signed = try SignedNodeRecord.sign(record, identity: Fixtures.identity1, mesh: mesh, policy: permissive)
        #expect(throws: RecordRejection.self) { try signed.verify(in: mesh) }
        try signed.verify(in: mesh, policy: permissive)
    }

    @Test func routeCountAndPathLengthAreBounded() throws {
        var record = Fixtures.record()
        record.routes = (1...17).map { route("fd45:d5b5:95eb:\(String($0, radix: 16))::/64") }
        #expect(throws: RecordRejection.self) {
            try SignedNodeRecord.sign(record, identity: Fixtures.identity1, mesh: mesh)
        }
        let path = (0..<9).map { MeshID(bytes: [UInt8](repeating: UInt8($0), count: 10))! }
        record.routes = [route("10.0.0.0/8", path: path)]
        #expect(throws: RecordRejection.self) {
            try SignedNodeRecord.sign(
                record, identity: Fixtures.identity1, mesh: mesh,
                policy: RoutePolicy(allowedPrefixes: [IPPrefix("10.0.0.0/8")!]))
        }
    }
}
