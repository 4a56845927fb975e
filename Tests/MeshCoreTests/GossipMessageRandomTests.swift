import GossipCRDT
import Testing

@testable import MeshCore

/// Round trips over generated messages of every kind and size within the limits, complementing
/// the fixed examples and the fuzzer (which starts from bytes rather than values).
@Suite struct GossipMessageRandomTests {
    var rng = IPAddressDifferentialTests.SplitMix(state: 7)

    mutating func node() -> NodeID { NodeID(rng.next(), rng.next(), rng.next(), rng.next()) }

    mutating func bytes(upTo limit: Int) -> [UInt8] {
        (0..<Int(rng.next() % UInt64(limit + 1))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    }

    mutating func updates(upTo limit: Int) -> Updates {
        let records = Int(rng.next() % UInt64(limit / 2 + 1))
        let tombstones = Int(rng.next() % UInt64(limit - records + 1))
        var out = Updates()
        for _ in 0..<records {
            out.records.append(MemberRecord(owner: node(), version: rng.next(), payload: bytes(upTo: 300)))
        }
        for _ in 0..<tombstones {
            let kind: TombstoneKind = rng.next() % 2 == 0 ? .left : .pruned
            out.tombstones.append(
                Tombstone(member: node(), version: rng.next(), kind: kind, issuer: node(), proof: bytes(upTo: 80)))
        }
        return out
    }

    mutating func message() -> GossipMessage {
        let stamp = EpochStamp(leader: node(), number: rng.next())
        switch rng.next() % 8 {
        case 0:
            let summary = StoreSummary(hash: rng.next(), count: UInt32(rng.next() % 100_000))
            return .digest(
                Digest(
                    summary: summary, epoch: rng.next() % 2 == 0 ? nil : stamp, rumors: updates(upTo: 16),
                    isReply: rng.next() % 2 == 0))
        case 1:
            let level = UInt8(rng.next() % 4)
            return .buckets(
                BucketDigest(
                    level: level,
                    hashes: (0..<(1 << (4 * Int(level)))).map { _ in UInt32(truncatingIfNeeded: rng.next()) }))
        case 2:
            let level = UInt8(rng.next() % 4)
            let limit = 1 << (4 * Int(level))
            let buckets = (0..<Int(rng.next() % UInt64(min(limit, 64) + 1))).map { _ in
                UInt16(rng.next() % UInt64(limit))
            }
            return .delta(
                Delta(level: level, buckets: buckets, updates: updates(upTo: 40), wantsReply: rng.next() % 2 == 0))
        case 3:
            let scope = rng.next() % 2 == 0 ? nil : Scope(bits: UInt8(rng.next() % 65), prefix: rng.next())
            return .heartbeat(Heartbeat(epoch: stamp, stableSummary: rng.next(), proof: bytes(upTo: 64), scope: scope))
        case 4: return .probe(stamp)
        case 6:
            let level = UInt8(rng.next() % 4)
            let limit = UInt64(1 << (4 * Int(level)))
            return .versions(
                Versions(
                    level: level,
                    buckets: (0..<Int(rng.next() % min(limit + 1, 8))).map { _ in UInt16(rng.next() % limit) },
                    entries: (0..<Int(rng.next() % 50)).map { _ in
                        EntryVersion(path: rng.next(), clock: rng.next(), hash: UInt32(truncatingIfNeeded: rng.next()))
                    }, isRequest: rng.next() % 2 == 0))
        case 5:
            return .report(
                Report(
                    epoch: stamp,
                    missing: (0..<Int(rng.next() % UInt64(GossipLimits.maxReported + 1))).map { _ in node() }))
        default: return .ack(Ack(line: UInt32(truncatingIfNeeded: rng.next()), number: rng.next() >> (rng.next() % 64)))
        }
    }

    @Test mutating func generatedMessagesRoundTrip() throws {
        for _ in 0..<500 {
            let original = message()
            let encoded = try GossipMessageCodec.encode(original)
            #expect(try GossipMessageCodec.decode(encoded) == original)
            #expect(try GossipMessageCodec.encode(GossipMessageCodec.decode(encoded)) == encoded)
        }
    }
}
