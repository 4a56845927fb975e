import GossipCRDT
import Testing

@testable import MeshCore

/// The validator plugged into GossipCRDT's real store: what a node does with gossip it receives.
@Suite struct StoreValidationTests {
    let validator = MeshRecordValidator(mesh: Fixtures.mesh1)

    func member(_ identity: NodeIdentity, version: UInt64) -> MemberRecord {
        let signed = Fixtures.signed(Fixtures.record(identity, version: version), identity: identity)
        return MemberRecord(owner: identity.nodeID, version: version, payload: signed.encoded)
    }

    @Test func replayedOlderVersionIsNotMerged() {
        var store = MemberStore()
        var rejections = RejectionCounts()
        _ = store.merge(
            Updates(records: [member(Fixtures.identity1, version: 2)]), validator: validator, rejections: &rejections)
        #expect(store.record(for: Fixtures.identity1.nodeID)?.version == 2)
        _ = store.merge(
            Updates(records: [member(Fixtures.identity1, version: 1)]), validator: validator, rejections: &rejections)
        #expect(store.record(for: Fixtures.identity1.nodeID)?.version == 2)
        #expect(rejections[.stale] == 1)
    }

    @Test func forgedRecordsAreCountedNotMerged() {
        var store = MemberStore()
        var rejections = RejectionCounts()
        var forged = member(Fixtures.identity1, version: 3)
        forged.payload[forged.payload.count - 1] ^= 1
        var stolen = member(Fixtures.identity2, version: 1)
        stolen.owner = Fixtures.identity1.nodeID
        var pinned = member(Fixtures.identity2, version: 1)
        pinned.version = .max
        let changes = store.merge(
            Updates(records: [forged, stolen, pinned]), validator: validator, rejections: &rejections)
        #expect(changes.isEmpty)
        #expect(store.count == 0)
        #expect(rejections[.invalid] == 3)
    }

    @Test func signedLeaveRemovesTheMember() {
        var store = MemberStore()
        var rejections = RejectionCounts()
        _ = store.merge(
            Updates(records: [member(Fixtures.identity1, version: 2)]), validator: validator, rejections: &rejections)
        let leave = TombstoneSigning.make(
            member: Fixtures.identity1.nodeID, version: 2, kind: .left, identity: Fixtures.identity1,
            mesh: Fixtures.mesh1)
        _ = store.merge(Updates(tombstones: [leave]), validator: validator, rejections: &rejections)
        #expect(!store.isPresent(Fixtures.identity1.nodeID))
        #expect(rejections.total == 0)
    }

    @Test func unsignedPruneIsRejected() {
        var store = MemberStore()
        var rejections = RejectionCounts()
        _ = store.merge(
            Updates(records: [member(Fixtures.identity1, version: 2), member(Fixtures.identity2, version: 1)]),
            validator: validator, rejections: &rejections)
        let forged = Tombstone(
            member: Fixtures.identity1.nodeID, version: 2, kind: .pruned, issuer: Fixtures.identity2.nodeID,
            proof: [UInt8](repeating: 0, count: 64))
        _ = store.merge(Updates(tombstones: [forged]), validator: validator, rejections: &rejections)
        #expect(store.isPresent(Fixtures.identity1.nodeID))
        #expect(rejections[.invalid] == 1)
    }
}
