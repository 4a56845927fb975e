import Testing

@testable import GossipCRDT

/// The store's room (`maxMembers`) and the new-identity rate against a member that mints keys:
/// every way an entry can appear in the store is bounded, not only a record of a key never seen.
@Suite struct HostileCapacityTests {
    func settled(_ options: HostileMesh.Options = HostileMesh.Options()) -> HostileMesh {
        var mesh = HostileMesh(options: options)
        mesh.advance(by: .seconds(3))
        return mesh
    }

    @Test func aFullStoreRefusesNewIdentities() {
        var options = HostileMesh.Options()
        options.gossip.maxMembers = 20
        var mesh = settled(options)
        let target = mesh.honest[1]
        let records = (0..<30).map { _ in mesh.attackerRecord(mesh.mintSybil(), version: 1) }
        mesh.inject(
            .delta(Delta(level: 0, buckets: [], updates: Updates(records: records), wantsReply: false)), to: target)
        #expect(mesh.engine(target).store.count == 20)
        #expect(mesh.engine(target).rejections[.capacity] == 30 - (20 - mesh.honest.count - 1))
    }

    /// Removals are entries too: a removal of an identity the store has never seen is a new
    /// identity, held to the same room and rate as a record of one.
    @Test func removalsOfFreshIdentitiesCountAgainstCapacityAndRate() {
        var mesh = settled()
        let target = mesh.honest[1]
        for _ in 0..<5 {
            let removals = (0..<1000).map { _ in
                mesh.attackerSigned(
                    Tombstone(member: mesh.mintSybil(), version: 1, kind: .pruned, issuer: mesh.attacker))
            }
            mesh.inject(
                .delta(Delta(level: 0, buckets: [], updates: Updates(tombstones: removals), wantsReply: false)),
                to: target)
        }
        #expect(mesh.engine(target).store.count <= mesh.honest.count + 1 + mesh.config.newMemberBurst)
        #expect(mesh.engine(target).rejections[.capacity] >= 5000 - mesh.config.newMemberBurst)
    }

    /// A member whose removal was compacted leaves only a floor; coming back it is an entry
    /// again. Floors pile up as sybils are pruned and compacted, and without room for returns a
    /// member could bring them all back at once, past `maxMembers` and the rate.
    @Test func compactedIdentitiesComingBackTakeRoom() {
        var config = GossipConfig()
        config.maxMembers = 8
        var store = MemberStore()
        for member: UInt64 in 1...5 { store.add(record(member, 1)) }
        for member: UInt64 in 10..<30 {
            store.add(pruned(member, 1, by: 1))
            store.compact(id(member), floor: 1)
        }
        #expect(store.count == 5 && store.floors.count == 20)
        var node = engine(1, config: config)
        node.restore(store)
        let returning = Updates(records: (10..<30).map { record($0, 2) })
        _ = node.receive(
            .delta(Delta(level: 0, buckets: [], updates: returning, wantsReply: false)), from: id(2), now: ms(0))
        #expect(node.store.count == 8)
        #expect(node.rejections[.capacity] == 17)
    }
}
