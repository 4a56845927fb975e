import GossipCRDT
import PropertyBased
import Testing

/// The CRDT laws, checked on generated stores rather than on examples. Each input is a seed for
/// `UpdateGenerator`, which draws records and removals over six members so that they collide.
@Suite struct MergePropertyTests {
    static let seeds = Gen.uint64(in: 0...UInt64.max)

    func merged(_ a: MemberStore, _ b: MemberStore) -> MemberStore {
        var out = a
        out.merge(b)
        return out
    }

    @Test func mergeIsCommutative() async {
        await propertyCheck(input: Self.seeds) { seed in
            var generator = UpdateGenerator(seed: seed)
            let a = generator.store(8)
            let b = generator.store(8)
            #expect(merged(a, b).entries == merged(b, a).entries)
            #expect(merged(a, b).summary == merged(b, a).summary)
        }
    }

    @Test func mergeIsAssociative() async {
        await propertyCheck(input: Self.seeds) { seed in
            var generator = UpdateGenerator(seed: seed)
            let a = generator.store(6)
            let b = generator.store(6)
            let c = generator.store(6)
            #expect(merged(merged(a, b), c).entries == merged(a, merged(b, c)).entries)
        }
    }

    @Test func mergeIsIdempotent() async {
        await propertyCheck(input: Self.seeds) { seed in
            var generator = UpdateGenerator(seed: seed)
            let a = generator.store(10)
            #expect(merged(a, a).entries == a.entries)
            let b = generator.store(10)
            let ab = merged(a, b)
            #expect(merged(ab, b).entries == ab.entries)
        }
    }

    /// Any order, with duplicates and with losses that are later repaired, ends in the state of
    /// merging everything once.
    @Test func anyDeliveryThatEventuallyDeliversConverges() async {
        await propertyCheck(input: Self.seeds) { seed in
            var generator = UpdateGenerator(seed: seed)
            let updates = generator.batch(25)
            var reference = MemberStore()
            for batch in updates { reference.merge(MemberStore.with(batch)) }
            for replica in 0..<3 {
                var rng = SplitMix64(seed: seed &+ UInt64(replica))
                var deliveries = updates + updates.filter { _ in Bool.random(using: &rng) }
                deliveries.shuffle(using: &rng)
                var store = MemberStore()
                var lost: [Updates] = []
                for batch in deliveries {
                    if Int.random(in: 0..<4, using: &rng) == 0 { lost.append(batch) } else { store.merge(.with(batch)) }
                }
                for batch in lost.reversed() { store.merge(.with(batch)) }
                #expect(store.entries == reference.entries)
                #expect(store.summary == reference.summary)
            }
        }
    }

    /// Once a member is removed at version v, no delivery of its records up to v brings it back,
    /// in whatever order they arrive.
    @Test func noRemovedMemberComesBack() async {
        await propertyCheck(input: Self.seeds) { seed in
            var rng = SplitMix64(seed: seed)
            let removedAt = UInt64.random(in: 1...6, using: &rng)
            var stale = (1...removedAt).map { record(1, $0, payload: [UInt8($0)]) }
            stale += stale
            stale.shuffle(using: &rng)
            let split = Int.random(in: 0...stale.count, using: &rng)
            var store = MemberStore()
            for item in stale[..<split] { store.add(item) }
            store.add(pruned(1, removedAt))
            for item in stale[split...] {
                store.add(item)
                #expect(!store.isPresent(id(1)))
            }
            var other = MemberStore()
            for item in stale { other.add(item) }
            store.merge(other)
            #expect(!store.isPresent(id(1)))
            store.add(record(1, removedAt + 1))
            #expect(store.isPresent(id(1)))
        }
    }

    /// Bucket digests and summaries agree exactly when the stores do.
    @Test func digestsAgreeExactlyWhenStoresAgree() async {
        await propertyCheck(input: Self.seeds) { seed in
            var generator = UpdateGenerator(seed: seed)
            let a = generator.store(10)
            let b = generator.store(10)
            let same = a.entries == b.entries
            #expect((a.summary == b.summary) == same)
            #expect((a.bucketHashes(level: 1) == b.bucketHashes(level: 1)) == same)
        }
    }
}
