import Foundation
import GossipCRDT
import Testing

@testable import MeshCore
@testable import smegd

/// What the control API and the names show of IPv4 overlay addresses, from one `MeshNode`:
/// the founder of a mesh with an IPv4 network gives itself an address, and its summary, its
/// member view and its DNS member carry it; a node without one says why in its status; the
/// JSON of a mesh without IPv4 is what it was.
@Suite struct IPv4ViewTests {
    static let prefix = IPPrefix("100.77.0.0/16")!
    let secret = MeshSecret(bytes: Array(repeating: 7, count: 32))!

    func founder(ipv4Prefix: IPPrefix?) throws -> MeshNode {
        let identity = try NodeIdentity(seed: [1] + Array(repeating: 5, count: 31))
        let charter = try MeshCharter.sign(
            owner: identity, salt: Array(repeating: 9, count: MeshID.saltByteCount), name: "lab", policy: .default,
            ipv4Prefix: ipv4Prefix)
        let persisted = PersistedMesh(
            meshId: charter.mesh.text, name: "lab", secret: Data(secret.bytes).base64EncodedString(),
            options: MeshOptions(alias: "alpha"), bootstrap: [], charter: Data(charter.bytes).base64EncodedString())
        var node = MeshNode(
            persisted: persisted, mesh: charter.mesh, secret: secret, identity: identity, policy: .default,
            charter: charter, settings: MeshSettings(config: DaemonConfig(), gossipPort: 7946))
        node.hostEndpoints = [Endpoint("10.9.0.1:51820")!]
        return node
    }

    /// Starts `node` and runs it in virtual time until `done` holds, for at most 20 s.
    func run(_ node: inout MeshNode, until done: (MeshNode) -> Bool) {
        let wall: UInt64 = 1_800_000_000_000
        _ = node.start(now: .zero, wallMillis: wall)
        for step in 1...200 where !done(node) {
            let now = GossipCRDT.Instant(nanoseconds: UInt64(step) * 100_000_000)
            _ = node.tick(now: now, wallMillis: wall + UInt64(step) * 100)
        }
    }

    func json(_ value: some Encodable) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: JSONEncoder().encode(value)) as? [String: Any])
    }

    @Test func theFoundersAddressIsInItsSummaryItsMemberViewAndItsDNSMember() throws {
        var node = try founder(ipv4Prefix: Self.prefix)
        run(&node) { $0.ownIPv4 != nil }
        let own = try #require(node.ownIPv4)
        #expect(IPv4Allocation.isHost(own, in: Self.prefix))

        let summary = node.summary()
        #expect(summary.ipv4Address == "\(own)")
        #expect(summary.ipv4Prefix == "100.77.0.0/16")
        let detail = node.detail(now: .zero)
        let me = try #require(detail.members.first { $0.isSelf })
        #expect(me.ipv4 == "\(own)")
        #expect(detail.mesh.ipv4Address == "\(own)")
        #expect(node.dnsMesh().members.map(\.ipv4) == [own])
        #expect(node.status(now: .zero).ipv4Problem == nil)

        // The same names answer A: the zone built from `dnsMesh` holds the address.
        let zone = DNSZone(origin: DomainName("smeg")!, meshes: [node.dnsMesh()])
        #expect(zone.lookup(DomainName("alpha.lab.smeg")!) == .name(node.identity.address(in: node.mesh), ipv4: own))
        #expect(HostsFile.render(zone).contains("\n\(own)\talpha.lab.smeg "))

        let fields = try json(summary)
        #expect(fields["ipv4Address"] as? String == "\(own)" && fields["ipv4Prefix"] as? String == "100.77.0.0/16")
        let member = try json(me)
        #expect(member["ipv4"] as? String == "\(own)")
    }

    /// `smegctl status` says why this node has no IPv4 address; the summary and the member
    /// view leave the field out rather than show an empty one.
    @Test func aNodeWithoutAnAddressSaysWhyInItsStatus() throws {
        var node = try founder(ipv4Prefix: Self.prefix)
        run(&node) { $0.ownIPv4 != nil }
        // As a member admitted without an address would see itself: no claim names it.
        node.ipv4 = IPv4Assignment(prefix: Self.prefix, members: [node.identity.signingKey], claims: [])
        let status = node.status(now: .zero)
        let problem = try #require(status.ipv4Problem)
        #expect(problem.contains("no IPv4 address yet"))
        #expect(try json(status)["ipv4Problem"] as? String == problem)

        let summary = node.summary()
        #expect(summary.ipv4Address == nil && summary.ipv4Prefix == "100.77.0.0/16")
        #expect(try json(summary)["ipv4Address"] == nil)
        let me = try #require(node.detail(now: .zero).members.first { $0.isSelf })
        #expect(me.ipv4 == nil)
        #expect(try json(me)["ipv4"] == nil)
        #expect(node.dnsMesh().members.map(\.ipv4) == [nil])
    }

    /// A mesh made without an IPv4 network: no field appears, no problem is reported.
    @Test func aMeshWithoutIPv4ShowsNoIPv4Fields() throws {
        var node = try founder(ipv4Prefix: nil)
        run(&node) { $0.summary().members == 1 }
        let summary = try json(node.summary())
        #expect(summary["ipv4Address"] == nil && summary["ipv4Prefix"] == nil)
        let status = node.status(now: .zero)
        #expect(status.ipv4Problem == nil)
        #expect(try json(status)["ipv4Problem"] == nil)
        let members = node.detail(now: .zero).members
        #expect(members.count == 1 && members.allSatisfy { $0.ipv4 == nil })
        #expect(node.dnsMesh().members.map(\.ipv4) == [nil])
    }

    /// JSON from a daemon that predates the fields decodes, and the new fields round-trip.
    @Test func theNewFieldsAreOptionalOnTheWire() throws {
        let old = Data(
            #"{"meshId":"m","interface":"smegm","address":"fd00::1","prefix":"fd00::/64","role":"peer","members":1,"isLeader":true}"#
                .utf8)
        let summary = try JSONDecoder().decode(MeshSummary.self, from: old)
        #expect(summary.ipv4Address == nil && summary.ipv4Prefix == nil)
        var updated = summary
        updated.ipv4Address = "100.64.0.9"
        updated.ipv4Prefix = "100.64.0.0/16"
        #expect(try JSONDecoder().decode(MeshSummary.self, from: JSONEncoder().encode(updated)) == updated)
        let oldStatus = Data(#"{"meshId":"m","interface":"smegm","members":1}"#.utf8)
        #expect(try JSONDecoder().decode(MeshStatus.self, from: oldStatus).ipv4Problem == nil)
    }
}
