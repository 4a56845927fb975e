import GossipCRDT
import Testing

@Suite struct StoreTests {
    @Test func presentWhenAddedAndNotRemovedByANewerOrEqualRemoval() {
        var store = MemberStore()
        store.add(record(1, 3))
        #expect(store.isPresent(id(1)))
        store.add(pruned(1, 2))
        #expect(store.isPresent(id(1)), "an older removal does not hide a newer record")
        store.add(pruned(1, 3))
        #expect(!store.isPresent(id(1)))
        #expect(store.record(for: id(1)) == nil, "a covered record is dropped, not kept")
        #expect(store.entry(for: id(1))?.tombstone?.version == 3)
    }

    @Test func acceptsOnlyStrictlyNewerRecords() {
        var store = MemberStore()
        var rejections = RejectionCounts()
        #expect(
            store.merge(Updates(records: [record(1, 2)]), validator: AcceptAll(), rejections: &rejections).count == 1)
        #expect(store.merge(Updates(records: [record(1, 2)]), validator: AcceptAll(), rejections: &rejections).isEmpty)
        #expect(store.merge(Updates(records: [record(1, 1)]), validator: AcceptAll(), rejections: &rejections).isEmpty)
        #expect(rejections[.stale] == 2)
        #expect(
            store.merge(Updates(records: [record(1, 3)]), validator: AcceptAll(), rejections: &rejections).count == 1)
        #expect(store.record(for: id(1))?.version == 3)
    }

    @Test func consultsTheValidatorAndCountsRejections() {
        struct OnlyOdd: RecordValidator {
            func accept(_ record: MemberRecord) -> Bool { record.version % 2 == 1 }
            func accept(_ tombstone: Tombstone, issuer: MemberRecord?) -> Bool { issuer != nil }
            func accept(_ heartbeat: Heartbeat, leader: MemberRecord) -> Bool { true }
        }
        var store = MemberStore()
        var rejections = RejectionCounts()
        _ = store.merge(Updates(records: [record(1, 2)]), validator: OnlyOdd(), rejections: &rejections)
        #expect(store.entry(for: id(1)) == nil)
        _ = store.merge(Updates(records: [record(1, 3)]), validator: OnlyOdd(), rejections: &rejections)
        #expect(store.isPresent(id(1)))
        _ = store.merge(Updates(tombstones: [pruned(1, 3, by: 9)]), validator: OnlyOdd(), rejections: &rejections)
        #expect(store.isPresent(id(1)), "issuer 9 is unknown, so the validator refuses")
        _ = store.merge(Updates(tombstones: [pruned(1, 3, by: 1)]), validator: OnlyOdd(), rejections: &rejections)
        #expect(!store.isPresent(id(1)))
        #expect(rejections[.invalid] == 2)
    }

    @Test func staleRecordsOfARemovedMemberStayOut() {
        var store = MemberStore()
        var rejections = RejectionCounts()
        store.add(record(1, 4))
        store.add(pruned(1, 4))
        _ = store.merge(
            Updates(records: [record(1, 4), record(1, 2)]), validator: AcceptAll(), rejections: &rejections)
        #expect(!store.isPresent(id(1)))
        #expect(rejections[.removed] == 2)
        _ = store.merge(Updates(records: [record(1, 5)]), validator: AcceptAll(), rejections: &rejections)
        #expect(store.isPresent(id(1)), "a restarted member comes back with a strictly newer version")
    }

    @Test func onlyTheLeaverMaySignALeave() {
        var store = MemberStore()
        var rejections = RejectionCounts()
        store.add(record(1, 1))
        let forged = Tombstone(member: id(1), version: 1, kind: .left, issuer: id(2))
        _ = store.merge(Updates(tombstones: [forged]), validator: AcceptAll(), rejections: &rejections)
        #expect(store.isPresent(id(1)))
        #expect(rejections[.wrongIssuer] == 1)
        store.add(left(1, 1))
        #expect(!store.isPresent(id(1)))
    }

    @Test func leftWinsOverPrunedAtTheSameVersion() {
        var a = MemberStore()
        a.add(pruned(1, 2))
        a.add(left(1, 2))
        var b = MemberStore()
        b.add(left(1, 2))
        b.add(pruned(1, 2))
        #expect(a.entry(for: id(1))?.tombstone?.kind == .left)
        #expect(a.summary == b.summary)
    }

    @Test func compactionKeepsAFloorThatStillRejectsStaleRecords() {
        var store = MemberStore()
        var rejections = RejectionCounts()
        store.add(record(1, 3))
        store.add(pruned(1, 3))
        store.compact(id(1), floor: 3)
        #expect(store.entry(for: id(1)) == nil)
        #expect(store.count == 0)
        _ = store.merge(
            Updates(records: [record(1, 3)], tombstones: [pruned(1, 2)]), validator: AcceptAll(),
            rejections: &rejections)
        #expect(store.entry(for: id(1)) == nil)
        #expect(rejections[.compacted] == 2)
        store.add(record(1, 4))
        #expect(store.isPresent(id(1)))
    }

    @Test func compactionLeavesPresentMembersAlone() {
        var store = MemberStore()
        store.add(record(1, 3))
        store.compact(id(1), floor: 1)
        #expect(store.isPresent(id(1)))
    }

    @Test func summaryIgnoresInsertionOrderAndSeesEveryField() {
        var a = MemberStore()
        var b = MemberStore()
        for n in 1...50 { a.add(record(UInt64(n), 1)) }
        for n in (1...50).reversed() { b.add(record(UInt64(n), 1)) }
        #expect(a.summary == b.summary)
        #expect(a.bucketHashes(level: 2) == b.bucketHashes(level: 2))
        b.add(record(7, 1, payload: [9, 9]))
        #expect(a.summary != b.summary, "equal versions with different payloads must not look equal")
    }

    @Test func bucketsPointAtTheEntriesThatDiffer() {
        var a = MemberStore()
        for n in 1...300 { a.add(record(UInt64(n), 1)) }
        var b = a
        b.add(record(42, 2))
        let level = MemberStore.bucketLevel(forCount: a.count)
        #expect(level == 2)
        let ours = a.bucketHashes(level: level)
        let theirs = b.bucketHashes(level: level)
        let differing = ours.indices.filter { ours[$0] != theirs[$0] }.map { UInt16($0) }
        #expect(differing.count == 1)
        let entries = b.entries(inBuckets: differing, level: level)
        #expect(entries.contains { $0.id == id(42) && $0.record?.version == 2 })
        #expect(entries.count < 20)
    }

    @Test func bucketLevelGrowsWithTheStore() {
        #expect(MemberStore.bucketLevel(forCount: 0) == 0)
        #expect(MemberStore.bucketLevel(forCount: 8) == 0)
        #expect(MemberStore.bucketLevel(forCount: 100) == 1)
        #expect(MemberStore.bucketLevel(forCount: 1000) == 2)
        #expect(MemberStore.bucketLevel(forCount: 10_000) == 3)
        #expect(MemberStore.bucketLevel(forCount: 10_000_000) == GossipLimits.maxBucketLevel)
    }

    @Test func deltaSinceAVersionVectorIsExactlyWhatIsMissing() {
        var a = MemberStore()
        for n in 1...20 { a.add(record(UInt64(n), 1)) }
        var b = a
        b.add(record(3, 2))
        b.add(pruned(4, 1))
        b.add(record(21, 1))
        let delta = b.delta(since: a.versionVector)
        #expect(Set(delta.records.map(\.owner)) == [id(3), id(21)])
        #expect(delta.tombstones.map(\.member) == [id(4)])
        a.merge(MemberStore.with(delta))
        #expect(a.summary == b.summary)
        #expect(a.versionVector == b.versionVector)
    }

    @Test func versionVectorsMergePointwise() {
        var x = VersionVector()
        x[id(1)] = 3
        x[id(2)] = 1
        var y = VersionVector()
        y[id(2)] = 4
        let z = x.merged(with: y)
        #expect(z[id(1)] == 3 && z[id(2)] == 4 && z[id(9)] == 0)
        #expect(z.dominates(x) && z.dominates(y) && !x.dominates(y))
    }

    @Test func lowestPresentFollowsRemovals() {
        var store = MemberStore()
        for n in [5, 3, 8] as [UInt64] { store.add(record(n, 1)) }
        #expect(store.lowestPresent() == id(3))
        store.add(pruned(3, 1))
        #expect(store.lowestPresent() == id(5))
        #expect(store.lowestPresent(excluding: [id(5)]) == id(8))
        store.add(record(1, 1))
        #expect(store.lowestPresent() == id(1))
    }

    @Test func randomPresentOnlyPicksPresentMembers() {
        var store = MemberStore()
        for n in 1...40 { store.add(record(UInt64(n), 1)) }
        for n in 1...20 { store.add(pruned(UInt64(n), 1)) }
        var rng = SplitMix64(seed: 3)
        var seen: Set<NodeID> = []
        for _ in 0..<400 { seen.insert(store.randomPresent(using: &rng)!) }
        #expect(seen == Set((21...40).map { id(UInt64($0)) }))
    }
}
