import Foundation
import GossipCRDT
import MeshLinux
import Testing

@testable import MeshCore
@testable import smegd

@Suite struct MembershipSnapshotTests {
    private static let mesh = MeshID(bytes: Array(20..<30))!
    private static let validator = MeshRecordValidator(mesh: mesh)
    private static let leader = identity(1)
    private static let pruned = identity(2)
    private static let compacted = identity(3)
    private static let leaver = identity(4)

    private static func identity(_ byte: UInt8) -> NodeIdentity {
        try! NodeIdentity(seed: [UInt8](repeating: byte, count: 32))
    }

    private static func record(_ identity: NodeIdentity, version: UInt64) -> MemberRecord {
        let record = NodeRecord(
            identity: identity, mesh: mesh, endpoints: [Endpoint("192.0.2.1:51820")!], wireGuardPort: 51820,
            gossipPort: 51900, version: version)
        let signed = try! SignedNodeRecord.sign(record, identity: identity, mesh: mesh)
        return MemberRecord(owner: identity.nodeID, version: version, payload: signed.encoded)
    }

    private static func removal(
        of member: NodeIdentity, version: UInt64, kind: TombstoneKind, by issuer: NodeIdentity
    )
        -> Tombstone
    {
        TombstoneSigning.make(member: member.nodeID, version: version, kind: kind, identity: issuer, mesh: mesh)
    }

    /// A leader at version 3; a member pruned by it at version 2; a member that left at version
    /// 5 and whose removal was compacted to a floor; a member that left at version 1.
    private static func storeWithRemovals() -> MemberStore {
        var store = MemberStore()
        var rejections = RejectionCounts()
        let records = [record(leader, version: 3), record(pruned, version: 2), record(compacted, version: 5)]
        for record in records + [record(leaver, version: 1)] {
            _ = store.merge(
                MemberEntry(id: record.owner, record: record), validator: validator, rejections: &rejections)
        }
        let removals = [
            removal(of: pruned, version: 2, kind: .pruned, by: leader),
            removal(of: compacted, version: 5, kind: .left, by: compacted),
            removal(of: leaver, version: 1, kind: .left, by: leaver),
        ]
        for tombstone in removals {
            _ = store.merge(
                MemberEntry(id: tombstone.member, tombstone: tombstone), validator: validator, rejections: &rejections)
        }
        store.compact(compacted.nodeID, floor: 5)
        #expect(rejections.total == 0)
        return store
    }

    private func throughTheFile(_ membership: PersistedMembership) throws -> PersistedMembership {
        let state = StateDirectory(
            root: FileManager.default.temporaryDirectory.appendingPathComponent("smeg-\(UUID())").path)
        defer { try? FileManager.default.removeItem(atPath: state.root) }
        try state.prepare()
        try AtomicFile.makeDirectory(state.directory(of: "m"))
        try state.save(membership, meshId: "m")
        guard case .value(let loaded) = state.loadMembership("m") else { throw CancellationError() }
        return loaded
    }

    private func merge(_ record: MemberRecord, into store: inout MemberStore) -> RejectionCounts {
        var rejections = RejectionCounts()
        _ = store.merge(
            MemberEntry(id: record.owner, record: record), validator: Self.validator, rejections: &rejections)
        return rejections
    }

    @Test func removalsAndFloorsSurviveARestartAndKeepRefusingOldRecords() throws {
        let saved = MembershipSnapshot.capture(Self.storeWithRemovals(), lastAddresses: [:])
        let restored = MembershipSnapshot.restore(try throughTheFile(saved), validator: Self.validator)
        #expect(restored.refused == 0)
        #expect(restored.floorsFromRemovals == 1)
        var store = restored.store
        #expect(store.presentMembers == [Self.leader.nodeID])
        #expect(store.entry(for: Self.pruned.nodeID)?.tombstone?.issuer == Self.leader.nodeID)
        #expect(store.floors[Self.compacted.nodeID] == 5)
        #expect(store.floors[Self.leaver.nodeID] == 1)

        #expect(merge(Self.record(Self.pruned, version: 2), into: &store)[.removed] == 1)
        #expect(merge(Self.record(Self.pruned, version: 1), into: &store)[.removed] == 1)
        #expect(merge(Self.record(Self.compacted, version: 5), into: &store)[.compacted] == 1)
        #expect(merge(Self.record(Self.compacted, version: 4), into: &store)[.compacted] == 1)
        #expect(merge(Self.record(Self.leaver, version: 1), into: &store)[.compacted] == 1)
        #expect(store.presentMembers == [Self.leader.nodeID])

        // A pruned member that is alive comes back with a newer record, after a restart too.
        #expect(merge(Self.record(Self.pruned, version: 3), into: &store).total == 0)
        #expect(store.isPresent(Self.pruned.nodeID))
    }

    @Test func aFileOfAnOlderDaemonHasNoRemovals() throws {
        let old = #"{"format":1,"records":[],"lastAddresses":{"bad":"x"}}"#
        let membership = try JSONDecoder().decode(PersistedMembership.self, from: Data(old.utf8))
        #expect(membership.tombstones == nil && membership.floors == nil)
        let restored = MembershipSnapshot.restore(membership, validator: Self.validator)
        #expect(restored.store.count == 0 && restored.store.floors.isEmpty && restored.malformed == 1)
    }

    @Test func absurdAndForgedEntriesAreRefusedOneByOne() throws {
        let key = { (identity: NodeIdentity) in identity.wireGuardPublicKey.base64 }
        let above = MembershipSnapshot.maximumVersion + 1
        var forged = PersistedTombstone(Self.removal(of: Self.pruned, version: 2, kind: .pruned, by: Self.leader))
        forged.proof = Data(repeating: 7, count: 64).base64EncodedString()
        var wrongKind = forged
        wrongKind.kind = "exploded"
        var hugeVersion = PersistedTombstone(
            Self.removal(of: Self.leaver, version: above, kind: .left, by: Self.leaver))
        hugeVersion.version = above
        let membership = PersistedMembership(
            records: [
                Data(Self.record(Self.leader, version: 3).payload).base64EncodedString(),
                Data(Self.record(Self.compacted, version: above).payload).base64EncodedString(),
                "not base64", String(repeating: "A", count: 1_000_000),
            ],
            lastAddresses: [:], tombstones: [forged, wrongKind, hugeVersion],
            floors: [key(Self.compacted): above, key(Self.leaver): 0, "short": 3, key(Self.identity(5)): 9])
        let restored = MembershipSnapshot.restore(try throughTheFile(membership), validator: Self.validator)
        #expect(restored.store.presentMembers == [Self.leader.nodeID])
        #expect(restored.store.floors == [Self.identity(5).nodeID: 9])
        // The forged removal names a known issuer: the store checks it and refuses it.
        #expect(restored.rejections[.invalid] == 1)
        #expect(restored.store.entry(for: Self.pruned.nodeID) == nil)
        #expect(restored.floorsFromRemovals == 0)
        #expect(restored.malformed == 3 + 2 + 3)
    }

    @Test func countsAreCappedAtTheLimit() {
        let floors = Dictionary(
            uniqueKeysWithValues: (1...5).map { (Self.identity(UInt8(10 + $0)).wireGuardPublicKey.base64, UInt64($0)) })
        let membership = PersistedMembership(records: [], lastAddresses: [:], floors: floors)
        let restored = MembershipSnapshot.restore(membership, validator: Self.validator, limit: 2)
        #expect(restored.store.floors.count == 2)
        #expect(restored.malformed == 3)
    }
}
