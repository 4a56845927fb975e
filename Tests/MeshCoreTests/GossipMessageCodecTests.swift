import GossipCRDT
import Testing

@testable import MeshCore

@Suite struct GossipMessageCodecTests {
    static let alice = Fixtures.identity1.nodeID
    static let bob = Fixtures.identity2.nodeID
    static let stamp = EpochStamp(leader: alice, number: 42)

    static var updates: Updates {
        let signed = Fixtures.signed(Fixtures.record())
        let tombstone = TombstoneSigning.make(
            member: bob, version: 7, kind: .pruned, identity: Fixtures.identity1, mesh: Fixtures.mesh1)
        return Updates(
            records: [MemberRecord(owner: alice, version: 1, payload: signed.encoded)],
            tombstones: [tombstone, Tombstone(member: alice, version: 3, kind: .left, issuer: alice, proof: [])])
    }

    static let messages: [GossipMessage] = [
        .digest(Digest(summary: StoreSummary(hash: 0xDEAD_BEEF, count: 3), epoch: nil)),
        .digest(Digest(summary: StoreSummary(hash: 1, count: 2), epoch: stamp, rumors: updates, isReply: true)),
        .digest(Digest(summary: StoreSummary(hash: 0, count: 0), epoch: stamp, rumors: Updates(), isReply: false)),
        .buckets(BucketDigest(level: 0, hashes: [9])),
        .buckets(BucketDigest(level: 1, hashes: Array(0..<16))),
        .buckets(BucketDigest(level: 3, hashes: (0..<4096).map { UInt32($0) &* 2_654_435_761 })),
        .delta(Delta(level: 2, buckets: [0, 17, 255], updates: updates, wantsReply: true)),
        .delta(Delta(level: 0, buckets: [], updates: Updates(), wantsReply: false)),
        .heartbeat(Heartbeat(epoch: stamp, stableSummary: 77)),
        .heartbeat(
            Heartbeat(epoch: stamp, stableSummary: 77, proof: [1, 2], scope: Scope(bits: 6, prefix: 0xA8 << 56))),
        .heartbeat(Heartbeat(epoch: stamp, stableSummary: 0, scope: Scope(bits: 64, prefix: .max))),
        .probe(stamp),
        .ack(Ack(epoch: stamp)),
        .report(Report(epoch: stamp, missing: [alice, bob])),
        .report(Report(epoch: stamp, missing: [])),
        .versions(
            Versions(
                level: 2, buckets: [3, 255], entries: [EntryVersion(path: .max, clock: 7, hash: 9)], isRequest: false)),
        .versions(Versions(level: 0, buckets: [], entries: [], isRequest: true)),
        .ack(Ack(line: .max, number: .max)), .ack(Ack(line: 0, number: 0)),
    ]

    @Test(arguments: messages) func roundTrips(_ message: GossipMessage) throws {
        let bytes = try GossipMessageCodec.encode(message)
        #expect(try GossipMessageCodec.decode(bytes) == message)
        // The estimate GossipCRDT uses for traffic numbers stays close to the real size (it leaves
        // out the 15-byte clear header, and deltas use 4-byte entry counts).
        let real = bytes.count + FrameSealer.overhead
        #expect(abs(real - message.wireSizeEstimate) <= 24, "real \(real), estimated \(message.wireSizeEstimate)")
    }

    /// A heartbeat naming its leader by 8 bytes: 24 fewer, the same message once resolved, and
    /// refused when the receiver holds no single member those bytes start.
    @Test(arguments: messages) func shortLeadersResolveOrAreRefused(_ message: GossipMessage) throws {
        guard case .heartbeat(let heartbeat) = message else { return }
        let long = try GossipMessageCodec.encode(message)
        let short = try GossipMessageCodec.encode(message, shortLeader: true)
        #expect(short.count == long.count - 24)
        #expect(GossipMessageCodec.hasShortLeader(short) && !GossipMessageCodec.hasShortLeader(long))
        let leader = heartbeat.epoch.leader
        #expect(try GossipMessageCodec.decode(short) { $0 == leader.leadingWord ? leader : nil } == message)
        #expect(throws: WireError.self) { try GossipMessageCodec.decode(short) }
        // A resolver that answers with a member of other first bytes is not believed.
        #expect(throws: WireError.self) { try GossipMessageCodec.decode(short) { _ in Self.bob } }
        for length in 0..<short.count {
            #expect(throws: WireError.self) { try GossipMessageCodec.decode(short.prefix(length)) { _ in leader } }
        }
        var unknownBit = long
        unknownBit[1] |= 0x04
        #expect(throws: WireError.self) { try GossipMessageCodec.decode(unknownBit) }
    }

    @Test(arguments: messages) func everyTruncationFails(_ message: GossipMessage) throws {
        let bytes = try GossipMessageCodec.encode(message)
        for length in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 200)) {
            #expect(throws: WireError.self) { try GossipMessageCodec.decode(bytes.prefix(length)) }
        }
        #expect(throws: WireError.trailingBytes(count: 1)) { try GossipMessageCodec.decode(bytes + [0]) }
    }

    @Test func throughASealedFrame() throws {
        let sealer = FrameSealer(mesh: Fixtures.mesh1, secret: Fixtures.secret)
        let message = GossipMessage.delta(Delta(level: 1, buckets: [3], updates: Self.updates, wantsReply: false))
        let frame = try sealer.seal(sender: Self.alice, message: GossipMessageCodec.encode(message))
        let opened = try sealer.open(frame)
        #expect(opened.sender == Self.alice)
        #expect(try GossipMessageCodec.decode(opened.message) == message)
    }

    @Test func unknownTypeAndFlagsAreRejected() throws {
        #expect(throws: WireError.unknownMessageType(0)) { try GossipMessageCodec.decode([0]) }
        #expect(throws: WireError.unknownMessageType(9)) { try GossipMessageCodec.decode([9]) }
        #expect(throws: WireError.truncated(field: "message type")) { try GossipMessageCodec.decode([]) }
        var digest = try GossipMessageCodec.encode(
            .digest(Digest(summary: StoreSummary(hash: 1, count: 1), epoch: nil)))
        digest[13] = 0x80
        #expect(throws: WireError.invalid(field: "digest flags", reason: "unknown bits set")) {
            try GossipMessageCodec.decode(digest)
        }
        var delta = try GossipMessageCodec.encode(
            .delta(Delta(level: 0, buckets: [], updates: Updates(), wantsReply: true)))
        delta[delta.count - 1] = 2
        #expect(throws: WireError.invalid(field: "wants reply", reason: "boolean byte 2")) {
            try GossipMessageCodec.decode(delta)
        }
    }

    /// docs/protocol.md, "Messages".
    @Test func vectors() throws {
        let leader = NodeID(bytes: [UInt8](repeating: 1, count: 32))!
        let stamp = EpochStamp(leader: leader, number: 42)
        let report = GossipMessage.report(
            Report(epoch: stamp, missing: [NodeID(bytes: [UInt8](repeating: 2, count: 32))!]))
        let expectedReport =
            [7] + [UInt8](repeating: 1, count: 32) + [0, 0, 0, 0, 0, 0, 0, 42, 1]
            + [UInt8](repeating: 2, count: 32)
        #expect(try GossipMessageCodec.encode(report) == expectedReport)
        let heartbeat = GossipMessage.heartbeat(
            Heartbeat(epoch: stamp, stableSummary: 7, proof: [0xAA, 0xBB], scope: Scope(bits: 4, prefix: 0xA << 60)))
        // Flags (scope), leader, number 42 as a varint, summary, proof, scope.
        let expectedHeartbeat =
            [4, 1] + [UInt8](repeating: 1, count: 32) + [42]
            + [0, 0, 0, 0, 0, 0, 0, 7, 0, 2, 0xAA, 0xBB, 4, 0xA0, 0, 0, 0, 0, 0, 0, 0]
        #expect(try GossipMessageCodec.encode(heartbeat) == expectedHeartbeat)
        #expect(try GossipMessageCodec.decode(expectedHeartbeat) == heartbeat)
        // The leader short: flags 3, its first 8 bytes.
        let expectedShort =
            [4, 3] + [UInt8](repeating: 1, count: 8) + [42]
            + [0, 0, 0, 0, 0, 0, 0, 7, 0, 2, 0xAA, 0xBB, 4, 0xA0, 0, 0, 0, 0, 0, 0, 0]
        #expect(try GossipMessageCodec.encode(heartbeat, shortLeader: true) == expectedShort)
        #expect(try GossipMessageCodec.decode(expectedShort) { _ in leader } == heartbeat)
        let versions = GossipMessage.versions(
            Versions(
                level: 1, buckets: [3], entries: [EntryVersion(path: 0x0102_0304_0506_0708, clock: 7, hash: 9)],
                isRequest: false))
        let expectedVersions: [UInt8] =
            [8, 1, 0, 1, 0, 3, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8] + [0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 9, 0]
        #expect(try GossipMessageCodec.encode(versions) == expectedVersions)
        #expect(try GossipMessageCodec.decode(expectedVersions) == versions)
    }

    @Test func scopesAndReportsHaveOneEncodingAndBounds() throws {
        let plain = try GossipMessageCodec.encode(.heartbeat(Heartbeat(epoch: Self.stamp, stableSummary: 1)))
        // A scope of 65 bits, and a prefix with bits below its length: neither has a meaning.
        var tooLong = plain
        tooLong[1] = 1
        tooLong += [65] + [UInt8](repeating: 0, count: 8)
        #expect(throws: WireError.self) { try GossipMessageCodec.decode(tooLong) }
        var unmasked = plain
        unmasked[1] = 1
        unmasked += [4, 0x0F, 0, 0, 0, 0, 0, 0, 0]
        #expect(throws: WireError.self) { try GossipMessageCodec.decode(unmasked) }
        var flag = plain
        flag[1] = 4
        #expect(throws: WireError.invalid(field: "heartbeat flags", reason: "unknown bits 4")) {
            try GossipMessageCodec.decode(flag)
        }
        let crowd = Report(epoch: Self.stamp, missing: Array(repeating: Self.bob, count: GossipLimits.maxReported + 1))
        #expect(throws: WireError.self) { try GossipMessageCodec.encode(.report(crowd)) }
        var writer = ByteWriter()
        writer.writeU8(7)
        writer.writeBytes(Self.alice.bytes)
        writer.writeU64(1)
        writer.writeU8(UInt8(GossipLimits.maxReported + 1))
        #expect(throws: WireError.self) { try GossipMessageCodec.decode(writer.bytes) }
    }

    @Test func bucketRulesAreEnforced() throws {
        #expect(throws: WireError.self) { try GossipMessageCodec.encode(.buckets(BucketDigest(level: 1, hashes: [1]))) }
        #expect(throws: WireError.self) { try GossipMessageCodec.encode(.buckets(BucketDigest(level: 4, hashes: []))) }
        // Hand-built: level 4 (beyond the limit of 3).
        #expect(throws: WireError.tooLarge(field: "bucket level", length: 4, limit: 3)) {
            try GossipMessageCodec.decode([2, 4, 0, 0])
        }
        // Level 1 with 2 hashes instead of 16.
        #expect(throws: WireError.self) { try GossipMessageCodec.decode([2, 1, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2]) }
        // A delta naming bucket 16 at level 1 (only 0...15 exist).
        #expect(throws: WireError.self) {
            try GossipMessageCodec.decode([3, 1, 0, 1, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        }
        #expect(throws: WireError.self) {
            try GossipMessageCodec.encode(.delta(Delta(level: 1, buckets: [16], updates: Updates(), wantsReply: false)))
        }
    }

    @Test func oversizedFieldsAreRejected() throws {
        let bigPayload = [UInt8](repeating: 1, count: GossipLimits.maxPayloadBytes + 1)
        let tooBig = Updates(records: [MemberRecord(owner: Self.alice, version: 1, payload: bigPayload)])
        #expect(
            throws: WireError.tooLarge(
                field: "record payload", length: bigPayload.count, limit: GossipLimits.maxPayloadBytes)
        ) {
            try GossipMessageCodec.encode(.delta(Delta(level: 0, buckets: [0], updates: tooBig, wantsReply: false)))
        }
        let manyRumors = Updates(
            records: (0...GossipLimits.maxRumors).map {
                MemberRecord(owner: Self.alice, version: UInt64($0), payload: [])
            })
        #expect(throws: WireError.self) {
            try GossipMessageCodec.encode(
                .digest(Digest(summary: StoreSummary(hash: 0, count: 0), epoch: nil, rumors: manyRumors)))
        }
        // A delta whose entries do not fit in one frame is refused, not truncated.
        let payload = [UInt8](repeating: 2, count: 8000)
        let huge = Updates(
            records: (0..<9).map { MemberRecord(owner: Self.alice, version: UInt64($0), payload: payload) })
        #expect(throws: WireError.self) {
            try GossipMessageCodec.encode(.delta(Delta(level: 0, buckets: [0], updates: huge, wantsReply: false)))
        }
        // A rumor count claiming more entries than bytes present fails before allocation.
        var writer = ByteWriter()
        writer.writeU8(1)
        writer.writeBytes([UInt8](repeating: 0, count: 12))
        writer.writeU8(0)
        writer.writeU8(64)
        #expect(throws: WireError.truncated(field: "records")) { try GossipMessageCodec.decode(writer.bytes) }
        #expect(throws: WireError.self) {
            try GossipMessageCodec.decode([UInt8](repeating: 1, count: FrameSealer.maxMessageSize + 1))
        }
    }

    @Test func tombstoneKindMustBeKnown() throws {
        let message = GossipMessage.digest(
            Digest(
                summary: StoreSummary(hash: 0, count: 0), epoch: nil,
                rumors: Updates(tombstones: [Tombstone(member: Self.bob, version: 1, kind: .left, issuer: Self.bob)])))
        var bytes = try GossipMessageCodec.encode(message)
        let kindOffset = 1 + 12 + 1 + 1 + 1 + 32 + 8
        #expect(bytes[kindOffset] == TombstoneKind.left.rawValue)
        bytes[kindOffset] = 9
        #expect(throws: WireError.invalid(field: "tombstone kind", reason: "unknown kind 9")) {
            try GossipMessageCodec.decode(bytes)
        }
    }
}
