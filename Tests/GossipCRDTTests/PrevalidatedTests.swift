import Synchronization
import Testing

@testable import GossipCRDT

/// New members' records are checked once on their way into the store (`Prevalidated`), and
/// only the record checked is spared the store's own check.
@Suite struct PrevalidatedTests {
    /// Counts the checks per member; refuses the payload [0xBA, 0xD0].
    final class Counting: RecordValidator {
        let calls = Mutex<[NodeID: Int]>([:])
        func accept(_ record: MemberRecord) -> Bool {
            calls.withLock { $0[record.owner, default: 0] += 1 }
            return record.payload != [0xBA, 0xD0]
        }
        func accept(_ tombstone: Tombstone, issuer: MemberRecord?) -> Bool { true }
        func accept(_ heartbeat: Heartbeat, leader: MemberRecord) -> Bool { true }
        func count(_ member: UInt64) -> Int { calls.withLock { $0[id(member), default: 0] } }
    }

    func engine(_ validator: Counting) -> GossipEngine {
        var store = MemberStore()
        store.add(record(1, 1))
        var engine = GossipEngine(
            me: id(1), validator: validator, signer: NoSignature(), rng: SplitMix64(seed: 7))
        engine.restore(store)
        return engine
    }

    @Test func aNewMembersRecordIsCheckedOnce() {
        let validator = Counting()
        var node = engine(validator)
        var batch = Updates()
        batch.records = (2...6).map { record($0, 1) } + [record(7, 1, payload: [0xBA, 0xD0])]
        let changes = node.mergeIncoming(batch, now: ms(0))
        #expect(changes.count == 5)
        for member in 2...6 {
            #expect(node.store.isPresent(id(UInt64(member))))
            #expect(validator.count(UInt64(member)) == 1, "member \(member)")
        }
        #expect(!node.store.isPresent(id(7)))
        #expect(node.rejections[.invalid] == 1)
    }

    /// A second version of a new member in the same batch was not the record checked: the
    /// store checks it, and refuses it when the validator does.
    @Test func onlyTheRecordCheckedIsSpared() {
        let validator = Counting()
        var node = engine(validator)
        var batch = Updates()
        batch.records = [record(2, 1), record(2, 2, payload: [0xBA, 0xD0]), record(3, 1), record(3, 2)]
        _ = node.mergeIncoming(batch, now: ms(0))
        #expect(node.store.record(for: id(2))?.version == 1, "the forged second version is refused")
        #expect(node.store.record(for: id(3))?.version == 2)
        #expect(validator.count(2) == 2 && validator.count(3) == 2)
        // A member already held is checked by the store alone, once.
        _ = node.mergeIncoming(Updates(records: [record(3, 3)]), now: ms(10))
        #expect(validator.count(3) == 3)
    }
}
