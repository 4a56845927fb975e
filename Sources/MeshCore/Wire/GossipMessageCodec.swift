import GossipCRDT

/// The binary encoding of every `GossipMessage` (layout in docs/protocol.md, "Messages").
///
/// One type byte, then the message's fields in declaration order: fixed-width big-endian
/// integers, 32-byte node ids, length-prefixed byte strings, and counts sized to their limit in
/// `GossipLimits`. Decoding checks every count against its limit and against the bytes that are
/// left before reserving anything, rejects unknown flag bits and non-0/1 booleans, and requires
/// the input to end exactly where the message ends, so each message has one encoding and
/// `decode(encode(m)) == m`.
public enum GossipMessageCodec {
    public enum MessageType: UInt8, CaseIterable, Sendable {
        case digest = 1
        case buckets = 2
        case delta = 3
        case heartbeat = 4
        case probe = 5
        case ack = 6
        case report = 7
        case versions = 8
    }

    static let heartbeatHasScope: UInt8 = 0x01
    /// The leader is named by the first 8 bytes of its id, which the receiver resolves among its
    /// present members (the leader always is one): 24 of the 111 bytes of an unscoped heartbeat.
    static let heartbeatShortLeader: UInt8 = 0x02
    static let digestHasEpoch: UInt8 = 0x01
    static let digestIsReply: UInt8 = 0x02
    /// Buckets in one delta: every bucket at the deepest level.
    static let maxDeltaBuckets = 4096
    static let recordMinimumSize = NodeID.byteCount + 8 + 2
    static let tombstoneMinimumSize = NodeID.byteCount + 8 + 1 + NodeID.byteCount + 2

    /// Fails when the message exceeds a bound of the format (then the sender must split it, e.g.
    /// send a delta in several parts) rather than producing bytes every receiver would drop.
    /// `shortLeader` names a heartbeat's leader by its first 8 bytes: only for a receiver that
    /// is known to be in the mesh (it holds us, `FrameSession.holds`), which holds the leader.
    public static func encode(_ message: GossipMessage, shortLeader: Bool = false) throws(WireError) -> [UInt8] {
        var writer = ByteWriter(capacity: 128)
        switch message {
        case .digest(let digest):
            writer.writeU8(MessageType.digest.rawValue)
            writer.writeSummary(digest.summary)
            var flags: UInt8 = digest.epoch == nil ? 0 : digestHasEpoch
            if digest.isReply { flags |= digestIsReply }
            writer.writeU8(flags)
            if let epoch = digest.epoch { writer.writeStamp(epoch) }
            writer.writeUpdates(digest.rumors, limit: GossipLimits.maxRumors)
        case .buckets(let buckets):
            writer.writeU8(MessageType.buckets.rawValue)
            writer.writeU8(buckets.level)
            writer.writeCount(buckets.hashes.count, limit: maxDeltaBuckets, field: "bucket hashes")
            for hash in buckets.hashes { writer.writeU32(hash) }
            if Int(buckets.level) > GossipLimits.maxBucketLevel || buckets.hashes.count != 1 << (4 * Int(buckets.level))
            {
                writer.fail(
                    .invalid(
                        field: "bucket hashes", reason: "\(buckets.hashes.count) hashes for level \(buckets.level)"))
            }
        case .delta(let delta):
            writer.writeU8(MessageType.delta.rawValue)
            writer.writeU8(delta.level)
            writer.writeBuckets(delta.buckets, field: "delta")
            writer.writeUpdates(delta.updates, limit: GossipLimits.maxEntries)
            writer.writeU8(delta.wantsReply ? 1 : 0)
            writer.checkBuckets(delta.buckets, level: delta.level, field: "delta")
        case .heartbeat(let heartbeat):
            writer.writeU8(MessageType.heartbeat.rawValue)
            // Flags first, so that the length of what follows is known before it is read and no
            // prefix of one heartbeat reads as another.
            writer.writeU8(
                (heartbeat.scope == nil ? 0 : heartbeatHasScope) | (shortLeader ? heartbeatShortLeader : 0))
            if shortLeader {
                writer.writeU64(heartbeat.epoch.leader.leadingWord)
            } else {
                writer.writeBytes(heartbeat.epoch.leader.bytes)
            }
            writer.writeVarU64(heartbeat.epoch.number)
            writer.writeU64(heartbeat.stableSummary)
            writer.writeLengthPrefixed(heartbeat.proof, limit: GossipLimits.maxProofBytes, field: "heartbeat proof")
            if let scope = heartbeat.scope {
                writer.writeU8(scope.bits)
                writer.writeU64(scope.prefix)
            }
        case .probe(let stamp):
            writer.writeU8(MessageType.probe.rawValue)
            writer.writeStamp(stamp)
        case .ack(let ack):
            writer.writeU8(MessageType.ack.rawValue)
            writer.writeU32(ack.line)
            writer.writeVarU64(ack.number)
        case .report(let report):
            writer.writeU8(MessageType.report.rawValue)
            writer.writeStamp(report.epoch)
            writer.writeCount(report.missing.count, limit: GossipLimits.maxReported, field: "reported members")
            for id in report.missing.prefix(GossipLimits.maxReported) { writer.writeBytes(id.bytes) }
        case .versions(let versions):
            writer.writeU8(MessageType.versions.rawValue)
            writer.writeU8(versions.level)
            writer.writeBuckets(versions.buckets, field: "versions")
            writer.writeCount(versions.entries.count, limit: GossipLimits.maxEntries, field: "versions")
            for entry in versions.entries.prefix(GossipLimits.maxEntries) {
                writer.writeU64(entry.path)
                writer.writeU64(entry.clock)
                writer.writeU32(entry.hash)
            }
            writer.writeU8(versions.isRequest ? 1 : 0)
            writer.checkBuckets(versions.buckets, level: versions.level, field: "versions")
        }
        let bytes = try writer.finish()
        guard bytes.count <= FrameSealer.maxMessageSize else {
            throw .tooLarge(field: "message", length: bytes.count, limit: FrameSealer.maxMessageSize)
        }
        return bytes
    }

    /// Whether `bytes` are a heartbeat that names its leader short: what `encode` needs to give
    /// back the same bytes (fuzzers and tests).
    public static func hasShortLeader<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        let head = Array(bytes.prefix(2))
        return head.count == 2 && head[0] == MessageType.heartbeat.rawValue && head[1] & heartbeatShortLeader != 0
    }

    /// `leader` resolves the 8 bytes of a short heartbeat leader to the one present member they
    /// start, or nil (none, or several: such a heartbeat is refused as malformed, and its sender's
    /// next one names the leader in full only if it stops taking us for a member; the leader's
    /// probes, which name it in full, still reach us).
    public static func decode<C: Collection>(
        _ bytes: C, leader: (UInt64) -> NodeID? = { _ in nil }
    ) throws(WireError) -> GossipMessage where C.Element == UInt8 {
        guard bytes.count <= FrameSealer.maxMessageSize else {
            throw .tooLarge(field: "message", length: bytes.count, limit: FrameSealer.maxMessageSize)
        }
        var reader = ByteReader(Array(bytes))
        let typeByte = try reader.readU8("message type")
        guard let type = MessageType(rawValue: typeByte) else { throw .unknownMessageType(typeByte) }
        let message: GossipMessage
        switch type {
        case .digest:
            let summary = try reader.readSummary()
            let flags = try reader.readU8("digest flags")
            guard flags & ~(digestHasEpoch | digestIsReply) == 0 else {
                throw .invalid(field: "digest flags", reason: "unknown bits set")
            }
            let epoch = flags & digestHasEpoch != 0 ? try reader.readStamp() : nil
            let rumors = try reader.readUpdates(limit: GossipLimits.maxRumors)
            message = .digest(
                Digest(summary: summary, epoch: epoch, rumors: rumors, isReply: flags & digestIsReply != 0))
        case .buckets:
            let level = try reader.readLevel()
            let count = try reader.readCount("bucket hashes", limit: maxDeltaBuckets, minimumElementSize: 4)
            guard count == 1 << (4 * Int(level)) else {
                throw .invalid(field: "bucket hashes", reason: "\(count) hashes for level \(level)")
            }
            var hashes: [UInt32] = []
            hashes.reserveCapacity(count)
            for _ in 0..<count { hashes.append(try reader.readU32("bucket hash")) }
            message = .buckets(BucketDigest(level: level, hashes: hashes))
        case .delta:
            let level = try reader.readLevel()
            let buckets = try reader.readBuckets(level: level, field: "delta")
            let updates = try reader.readUpdates(limit: GossipLimits.maxEntries)
            let wantsReply = try reader.readBool("wants reply")
            message = .delta(Delta(level: level, buckets: buckets, updates: updates, wantsReply: wantsReply))
        case .heartbeat:
            let flags = try reader.readU8("heartbeat flags")
            guard flags & ~(heartbeatHasScope | heartbeatShortLeader) == 0 else {
                throw .invalid(field: "heartbeat flags", reason: "unknown bits \(flags)")
            }
            let leaderID: NodeID
            if flags & heartbeatShortLeader != 0 {
                let word = try reader.readU64("heartbeat leader")
                guard let resolved = leader(word), resolved.leadingWord == word else {
                    throw .invalid(field: "heartbeat leader", reason: "no single present member starts with \(word)")
                }
                leaderID = resolved
            } else {
                leaderID = try reader.readNodeID("heartbeat leader")
            }
            let stamp = EpochStamp(leader: leaderID, number: try reader.readVarU64("heartbeat epoch number"))
            let stable = try reader.readU64("stable summary")
            let proof = try reader.readLengthPrefixed("heartbeat proof", limit: GossipLimits.maxProofBytes)
            var scope: Scope?
            if flags & heartbeatHasScope != 0 {
                let bits = try reader.readU8("scope bits")
                let prefix = try reader.readU64("scope prefix")
                let parsed = Scope(bits: bits, prefix: prefix)
                // One encoding per message: no length past 64, no bits below the prefix.
                guard bits <= 64, parsed.prefix == prefix else {
                    throw .invalid(field: "scope", reason: "prefix \(prefix) does not fit \(bits) bits")
                }
                scope = parsed
            }
            message = .heartbeat(Heartbeat(epoch: stamp, stableSummary: stable, proof: proof, scope: scope))
        case .probe:
            message = .probe(try reader.readStamp())
        case .ack:
            let line = try reader.readU32("ack line")
            message = .ack(Ack(line: line, number: try reader.readVarU64("ack epoch number")))
        case .report:
            let stamp = try reader.readStamp()
            let count = try reader.readCount(
                "reported members", limit: GossipLimits.maxReported, minimumElementSize: NodeID.byteCount)
            var missing: [NodeID] = []
            missing.reserveCapacity(count)
            for _ in 0..<count { missing.append(try reader.readNodeID("reported member")) }
            message = .report(Report(epoch: stamp, missing: missing))
        case .versions:
            let level = try reader.readLevel()
            let buckets = try reader.readBuckets(level: level, field: "versions")
            let count = try reader.readCount("versions", limit: GossipLimits.maxEntries, minimumElementSize: 20)
            var entries: [EntryVersion] = []
            entries.reserveCapacity(count)
            for _ in 0..<count {
                let path = try reader.readU64("version path")
                let clock = try reader.readU64("version clock")
                entries.append(EntryVersion(path: path, clock: clock, hash: try reader.readU32("version hash")))
            }
            let isRequest = try reader.readBool("versions request")
            message = .versions(Versions(level: level, buckets: buckets, entries: entries, isRequest: isRequest))
        }
        try reader.finish()
        return message
    }
}

extension ByteReader {
    mutating func readNodeID(_ field: String) throws(WireError) -> NodeID {
        NodeID(bytes: try readSlice(NodeID.byteCount, field))!
    }

    mutating func readBool(_ field: String) throws(WireError) -> Bool {
        switch try readU8(field) {
        case 0: return false
        case 1: return true
        case let value: throw .invalid(field: field, reason: "boolean byte \(value)")
        }
    }

    fileprivate mutating func readLevel() throws(WireError) -> UInt8 {
        let level = try readU8("bucket level")
        guard Int(level) <= GossipLimits.maxBucketLevel else {
            throw .tooLarge(field: "bucket level", length: Int(level), limit: GossipLimits.maxBucketLevel)
        }
        return level
    }

    fileprivate mutating func readSummary() throws(WireError) -> StoreSummary {
        let hash = try readU64("summary hash")
        let count = try readU32("summary count")
        guard Int(count) <= GossipLimits.maxEntries else {
            throw .tooLarge(field: "summary count", length: Int(count), limit: GossipLimits.maxEntries)
        }
        return StoreSummary(hash: hash, count: count)
    }

    /// A bucket list of a delta or versions message: each bucket below 16^level, as many as
    /// there are buckets at most.
    fileprivate mutating func readBuckets(level: UInt8, field: String) throws(WireError) -> [UInt16] {
        let bucketLimit = 1 << (4 * Int(level))
        let count = try readCount(
            "\(field) buckets", limit: GossipMessageCodec.maxDeltaBuckets, minimumElementSize: 2)
        guard count <= bucketLimit else {
            throw .tooLarge(field: "\(field) buckets", length: count, limit: bucketLimit)
        }
        var buckets: [UInt16] = []
        buckets.reserveCapacity(count)
        for _ in 0..<count {
            let bucket = try readU16("\(field) bucket")
            guard Int(bucket) < bucketLimit else {
                throw .invalid(field: "\(field) bucket", reason: "bucket \(bucket) beyond level \(level)")
            }
            buckets.append(bucket)
        }
        return buckets
    }

    fileprivate mutating func readStamp() throws(WireError) -> EpochStamp {
        let leader = try readNodeID("epoch leader")
        return EpochStamp(leader: leader, number: try readU64("epoch number"))
    }

    /// Records then tombstones; `limit` bounds the two together, as `GossipLimits` states it.
    fileprivate mutating func readUpdates(limit: Int) throws(WireError) -> Updates {
        let recordCount = try readCount(
            "records", limit: limit, minimumElementSize: GossipMessageCodec.recordMinimumSize)
        var updates = Updates()
        updates.records.reserveCapacity(recordCount)
        for _ in 0..<recordCount {
            let owner = try readNodeID("record owner")
            let version = try readU64("record version")
            let payload = try readLengthPrefixed("record payload", limit: GossipLimits.maxPayloadBytes)
            updates.records.append(MemberRecord(owner: owner, version: version, payload: payload))
        }
        let tombstoneCount = try readCount(
            "tombstones", limit: limit, minimumElementSize: GossipMessageCodec.tombstoneMinimumSize)
        guard recordCount + tombstoneCount <= limit else {
            throw .tooLarge(field: "entries", length: recordCount + tombstoneCount, limit: limit)
        }
        updates.tombstones.reserveCapacity(tombstoneCount)
        for _ in 0..<tombstoneCount {
            let member = try readNodeID("tombstone member")
            let version = try readU64("tombstone version")
            let kindByte = try readU8("tombstone kind")
            guard let kind = TombstoneKind(rawValue: kindByte) else {
                throw .invalid(field: "tombstone kind", reason: "unknown kind \(kindByte)")
            }
            let issuer = try readNodeID("tombstone issuer")
            let proof = try readLengthPrefixed("tombstone proof", limit: GossipLimits.maxProofBytes)
            updates.tombstones.append(
                Tombstone(member: member, version: version, kind: kind, issuer: issuer, proof: proof))
        }
        return updates
    }
}

extension ByteWriter {
    fileprivate mutating func writeSummary(_ summary: StoreSummary) {
        writeU64(summary.hash)
        writeU32(summary.count)
    }

    /// Mirror of `ByteReader.readBuckets`, without the level check (`checkBuckets`), which
    /// comes after the rest of the message so that its earlier failures are the ones reported.
    fileprivate mutating func writeBuckets(_ buckets: [UInt16], field: String) {
        writeCount(buckets.count, limit: GossipMessageCodec.maxDeltaBuckets, field: "\(field) buckets")
        for bucket in buckets.prefix(GossipMessageCodec.maxDeltaBuckets) { writeU16(bucket) }
    }

    fileprivate mutating func checkBuckets(_ buckets: [UInt16], level: UInt8, field: String) {
        let bucketLimit = 1 << (4 * min(Int(level), GossipLimits.maxBucketLevel))
        if Int(level) > GossipLimits.maxBucketLevel || buckets.contains(where: { Int($0) >= bucketLimit }) {
            fail(.invalid(field: "\(field) buckets", reason: "bucket beyond level \(level)"))
        }
    }

    fileprivate mutating func writeStamp(_ stamp: EpochStamp) {
        writeBytes(stamp.leader.bytes)
        writeU64(stamp.number)
    }

    fileprivate mutating func writeUpdates(_ updates: Updates, limit: Int) {
        if updates.count > limit { fail(.tooLarge(field: "entries", length: updates.count, limit: limit)) }
        writeCount(updates.records.count, limit: limit, field: "records")
        for record in updates.records {
            writeBytes(record.owner.bytes)
            writeU64(record.version)
            writeLengthPrefixed(record.payload, limit: GossipLimits.maxPayloadBytes, field: "record payload")
        }
        writeCount(updates.tombstones.count, limit: limit, field: "tombstones")
        for tombstone in updates.tombstones {
            writeBytes(tombstone.member.bytes)
            writeU64(tombstone.version)
            writeU8(tombstone.kind.rawValue)
            writeBytes(tombstone.issuer.bytes)
            writeLengthPrefixed(tombstone.proof, limit: GossipLimits.maxProofBytes, field: "tombstone proof")
        }
    }
}

extension FrameSealer {
    /// Encodes and seals one gossip message: what the daemon sends.
    public func seal(_ message: GossipMessage, sender: NodeID) throws -> [UInt8] {
        try seal(sender: sender, message: GossipMessageCodec.encode(message))
    }

    /// Opens and decodes one frame: what the daemon does with every datagram. Any failure is a
    /// `WireError` to count and drop.
    public func openMessage<C: Collection>(_ frame: C) throws(WireError) -> (sender: NodeID, message: GossipMessage)
    where C.Element == UInt8 {
        let opened = try open(frame)
        return (opened.sender, try GossipMessageCodec.decode(opened.message))
    }
}
