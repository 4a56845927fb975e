import GossipCRDT
import MeshCore

/// Fixed identities and meshes from the test vectors in docs/addressing.md, so failures are
/// reproducible and the documented values are exercised.
enum Fixtures {
    static let mesh1 = MeshID(bytes: Array(0..<10))!
    static let mesh2 = MeshID(bytes: [0xFF, 0xEE, 0xDD, 0xCC, 0xBB, 0xAA, 0x99, 0x88, 0x77, 0x66])!
    static let seed1: [UInt8] = Array(0..<32)
    static let seed2 = [UInt8](repeating: 0x42, count: 32)
    static let identity1 = try! NodeIdentity(seed: seed1)
    static let identity2 = try! NodeIdentity(seed: seed2)
    static let secret = MeshSecret(bytes: Array(100..<132))!

    static func record(
        _ identity: NodeIdentity = identity1, mesh: MeshID = mesh1, version: UInt64 = 1
    ) -> NodeRecord {
        var record = NodeRecord(
            identity: identity, mesh: mesh,
            endpoints: [Endpoint("203.0.113.7:51820")!, Endpoint("[2001:db8::7]:51820")!],
            wireGuardPort: 51820, gossipPort: 51821, role: .peer, version: version)
        record.alias = "web-1"
        record.description = "Web server, rack 3"
        record.services = ["http": "8080", "ssh": "22"]
        let lan = IPPrefix(containing: .v6(mesh.sitePrefixAddress(subnet: 7)), length: 64)!
        record.routes = [AdvertisedRoute(prefix: lan)]
        return record
    }

    static func signed(
        _ record: NodeRecord, identity: NodeIdentity = identity1, mesh: MeshID = mesh1
    ) -> SignedNodeRecord {
        try! SignedNodeRecord.sign(record, identity: identity, mesh: mesh)
    }
}

extension MeshID {
    /// An address in subnet `subnet` of the mesh's /48, for route tests.
    func sitePrefixAddress(subnet: UInt16) -> IPv6Address {
        guard case .v6(let base) = OverlayAddress.meshSitePrefix(of: self).address else { fatalError() }
        return IPv6Address(high: base.high | UInt64(subnet), low: 0)
    }
}
