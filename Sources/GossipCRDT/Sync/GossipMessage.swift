// MESSAGES READY: every message of the sync and liveness protocol is in this file, and these
// shapes are stable. The binary codec lives in MeshCore; fields are integers, NodeID, [UInt8]
// and arrays of those. Bounds are in `GossipLimits`; a receiver drops anything outside them.

/// Everything one node sends another. Every message travels sealed inside a frame that also names
/// the sender, which is why no message carries a `from`.
public enum GossipMessage: Sendable, Hashable {
    /// Opens a push-pull exchange, and is also the push of fresh news.
    case digest(Digest)
    /// Answer to a digest that did not match: per-bucket hashes, to find where replicas differ.
    case buckets(BucketDigest)
    /// The entries of the buckets that differ; answered once with what the asker lacks.
    case delta(Delta)
    /// A heartbeat epoch of the leader, passed down the epoch's delegation tree.
    case heartbeat(Heartbeat)
    /// The leader asks a member that was reported missing to acknowledge directly.
    case probe(EpochStamp)
    /// A member's acknowledgement of an epoch, sent to whoever handed it the heartbeat (its
    /// watcher for that epoch), or to the leader when the leader probed it.
    case ack(Ack)
    /// A watcher tells the leader which members it handed an epoch to never acknowledged it.
    case report(Report)
    /// The versions of the entries in buckets that differ (an offer), or the entries wanted
    /// back (a request): anti-entropy sends versions before entries, so a healed partition
    /// ships each entry once instead of whole buckets both ways.
    case versions(Versions)
}

/// One entry as a replica compares it: where it lives, its clock (`MemberEntry.clock`) and
/// the low 32 bits of its hash, which tells two entries of one clock apart.
public struct EntryVersion: Sendable, Hashable {
    public var path: UInt64
    public var clock: UInt64
    public var hash: UInt32

    public init(path: UInt64, clock: UInt64, hash: UInt32) {
        self.path = path
        self.clock = clock
        self.hash = hash
    }
}

public struct Versions: Sendable, Hashable {
    /// Level of the bucket numbering, as in the `BucketDigest` this answers.
    public var level: UInt8
    /// The buckets this offer covers whole (each below 16^level); the receiver sends back its
    /// entries in them that the offer lacks or holds older. Empty in a request, and in the
    /// earlier parts of a bucket split over several messages.
    public var buckets: [UInt16]
    /// The sender's entries (an offer), or the ones it wants (a request: clock and hash 0).
    public var entries: [EntryVersion]
    public var isRequest: Bool

    public init(level: UInt8, buckets: [UInt16], entries: [EntryVersion], isRequest: Bool) {
        self.level = level
        self.buckets = buckets
        self.entries = entries
        self.isRequest = isRequest
    }
}

/// A part of the 64-bit trie path space: the paths whose top `bits` bits equal `prefix`'s.
/// A heartbeat names the scope its receiver is to pass it on in; the whole space is the
/// leader's. See `Delegation.swift`.
public struct Scope: Sendable, Hashable {
    /// Prefix length, 0...64.
    public var bits: UInt8
    /// The prefix in the top bits; the rest are zero.
    public var prefix: UInt64

    public init(bits: UInt8, prefix: UInt64) {
        self.bits = min(bits, 64)
        self.prefix = Scope.masked(prefix, bits: self.bits)
    }

    public static let everything = Scope(bits: 0, prefix: 0)

    static func masked(_ value: UInt64, bits: UInt8) -> UInt64 {
        bits == 0 ? 0 : bits >= 64 ? value : value & ~(UInt64.max >> UInt64(bits))
    }

    public func contains(_ path: UInt64) -> Bool { Scope.masked(path, bits: bits) == prefix }
}

public struct Report: Sendable, Hashable {
    /// The epoch that went unacknowledged; reports count only for the leader's recent epochs.
    public var epoch: EpochStamp
    /// At most `GossipLimits.maxReported`.
    public var missing: [NodeID]

    public init(epoch: EpochStamp, missing: [NodeID]) {
        self.epoch = epoch
        self.missing = missing
    }
}

/// Identifies a heartbeat epoch: who opened it and its number.
public struct EpochStamp: Sendable, Hashable {
    /// The leader that opened the epoch.
    public var leader: NodeID
    /// Grows by one per epoch; a new leader continues from the highest number it has seen.
    public var number: UInt64

    public init(leader: NodeID, number: UInt64) {
        self.leader = leader
        self.number = number
    }
}

/// Twelve bytes that tell two replicas whether they agree.
public struct StoreSummary: Sendable, Hashable {
    /// Wrapping sum of the 64-bit hashes of all entries (records and tombstones).
    public var hash: UInt64
    /// Number of entries, removals included; at most `GossipLimits.maxEntries`.
    public var count: UInt32

    public init(hash: UInt64, count: UInt32) {
        self.hash = hash
        self.count = count
    }
}

public struct Digest: Sendable, Hashable {
    /// The sender's summary after merging nothing of the receiver's.
    public var summary: StoreSummary
    /// The newest epoch the sender follows; nil before it has heard of any leader.
    public var epoch: EpochStamp?
    /// Entries the sender learnt recently (at most `GossipLimits.maxRumors`): news rides along
    /// with the digest, so most exchanges during a join end after one message.
    public var rumors: Updates
    /// True when this digest answers another one; a reply is never answered with a digest again,
    /// which bounds every exchange to at most four messages.
    public var isReply: Bool

    public init(summary: StoreSummary, epoch: EpochStamp?, rumors: Updates = Updates(), isReply: Bool = false) {
        self.summary = summary
        self.epoch = epoch
        self.rumors = rumors
        self.isReply = isReply
    }
}

public struct BucketDigest: Sendable, Hashable {
    /// 0...`GossipLimits.maxBucketLevel`; there are 16^level buckets.
    public var level: UInt8
    /// One 32-bit hash per bucket, in bucket order; exactly 16^level of them.
    public var hashes: [UInt32]

    public init(level: UInt8, hashes: [UInt32]) {
        self.level = level
        self.hashes = hashes
    }
}

public struct Delta: Sendable, Hashable {
    /// Level of the bucket numbering, as in the `BucketDigest` this answers.
    public var level: UInt8
    /// The buckets that differ (each below 16^level, at most 4096 of them).
    public var buckets: [UInt16]
    /// All the sender's entries in those buckets (when `wantsReply`), or just the ones the other
    /// side lacks (the reply). At most `GossipLimits.maxEntries` in total.
    public var updates: Updates
    /// Asks the receiver to answer with its entries in `buckets` that are newer than `updates`.
    public var wantsReply: Bool

    public init(level: UInt8, buckets: [UInt16], updates: Updates, wantsReply: Bool) {
        self.level = level
        self.buckets = buckets
        self.updates = updates
        self.wantsReply = wantsReply
    }
}

public struct Heartbeat: Sendable, Hashable {
    public var epoch: EpochStamp
    /// The leader's store summary hash when it opened the epoch, or 0. A member whose summary
    /// equals it agrees with the leader: it sends no idle digests, and may count its tombstones
    /// as held everywhere (compaction). Signed, so a forwarder cannot silence anyone's repairs.
    public var stableSummary: UInt64
    /// The leader's signature over the other fields (made by a ``GossipSigner``, checked by the
    /// ``RecordValidator``). Heartbeats are forwarded by members, so the frame's authenticated
    /// sender says nothing about who opened the epoch: without this any member could open epochs
    /// in the leader's name and have everyone acknowledge an epoch the leader never opened.
    public var proof: [UInt8]
    /// Where the receiver passes the heartbeat on (nil: it does not). Chosen by the sender, so
    /// not signed: a lying forwarder can only make a receiver send within a part of the mesh it
    /// is in itself, once per epoch and scope.
    public var scope: Scope?

    public init(epoch: EpochStamp, stableSummary: UInt64 = 0, proof: [UInt8] = [], scope: Scope? = nil) {
        self.epoch = epoch
        self.stableSummary = stableSummary
        self.proof = proof
        self.scope = scope
    }
}

public struct Ack: Sendable, Hashable {
    /// The first four bytes of the key of the leader whose epoch is acknowledged, not all 32:
    /// the receiver only asks whether an ack is on a line it knows (its own, or the one it
    /// watches), and an ack is authenticated to its sender by the frame, so a sender can only
    /// ever speak for itself. A chance match with another line (2^-32 per pair of lines) counts a
    /// live member as alive. Acks are half of an idle mesh's packets, so the 28 bytes saved here
    /// are a sixth of each one on the wire (180 bytes with the whole stamp).
    public var line: UInt32
    /// The newest epoch the member has seen; acknowledges that one and all before it.
    public var number: UInt64

    public init(line: UInt32, number: UInt64) {
        self.line = line
        self.number = number
    }

    public init(epoch: EpochStamp) {
        self.init(line: Self.line(of: epoch.leader), number: epoch.number)
    }

    /// The tag of `leader`'s line: the first four bytes of its key.
    public static func line(of leader: NodeID) -> UInt32 {
        UInt32(truncatingIfNeeded: leader.w0 >> 32)
    }

    public func isOnLine(of leader: NodeID) -> Bool { line == Self.line(of: leader) }

    /// Whether this acknowledges exactly `epoch` (and so everything before it on its line).
    public func acknowledges(_ epoch: EpochStamp) -> Bool { isOnLine(of: epoch.leader) && number == epoch.number }
}

/// Bounds on messages. A receiver drops (and counts as `.malformed`) anything that exceeds them.
public enum GossipLimits {
    /// A record payload: a signed node record with endpoints and routes fits easily.
    public static let maxPayloadBytes = 8192
    /// A tombstone proof: a signature plus a little framing.
    public static let maxProofBytes = 256
    public static let maxRumors = 64
    public static let maxBucketLevel = 3
    /// Entries in one delta, and in one store: ten times the largest mesh we simulate.
    public static let maxEntries = 100_000
    /// The largest message body that fits one sealed UDP frame (65,507 − 103 bytes of frame, see
    /// docs/protocol.md), rounded down. The engine splits deltas and trims rumors to stay below it.
    public static let maxMessageBytes = 65_400
    /// The largest record or tombstone version accepted. An honest node adds one per publish, so
    /// 2^48 is never reached; the bound keeps every `version + 1` and `2 * version + 1` far from
    /// overflow, and a forged tombstone at 2^64 − 1 can no longer make a member unable to return.
    public static let maxVersion: UInt64 = 1 << 48
    /// How far above the version a receiver holds of a member (or above zero, for a member it
    /// has never seen) a removal may be. Each accepted removal raises what is held by at most
    /// this, so forged removals would need 2^32 rounds to push a member to `maxVersion`.
    public static let versionStep: UInt64 = 1 << 16
    /// The largest epoch number accepted, for the same reason; at one epoch per second it lasts
    /// nine million years.
    public static let maxEpoch: UInt64 = 1 << 48
    /// Members in one report: a watcher hands an epoch to at most three members per level of
    /// its scope (21 levels for 10^5 members) and to a few stand-ins.
    public static let maxReported = 64
    /// Members one reporter may name to the leader per epoch. An honest watcher names more
    /// than a report holds only during a flood of identities that answer nothing (it hands
    /// each of those the epoch itself); the cap bounds what a lying reporter makes the leader
    /// probe.
    public static let maxReportedPerEpoch = 512
    /// Probes the leader sends per tick at most, to its suspects in turn.
    public static let maxProbesPerTick = 64
}

/// How many bytes a message takes on the wire, for the simulator's traffic numbers.
///
/// Mirrors MeshCore's codec (docs/protocol.md): a 103-byte sealed frame (magic, version, mesh id,
/// nonce, tag, sender id, pair tag), a type byte, fixed-width integers, 32-byte ids, 2-byte lengths before
/// byte strings, and entry counts of 1 byte in a digest and 4 in a delta. IP and UDP headers
/// (28 to 48 bytes per datagram) are not counted. Every frame and heartbeat is counted in its
/// long form, although between members that talk every epoch smegd sends most of them short
/// (24 bytes less each), so simulated traffic overstates an idle mesh's by about a sixth.
extension GossipMessage {
    public static let frameOverhead = 103 + 1

    public var wireSizeEstimate: Int { GossipMessage.frameOverhead + bodySize }

    /// The case name, for metrics.
    public var kind: String {
        switch self {
        case .digest: return "digest"
        case .buckets: return "buckets"
        case .delta: return "delta"
        case .heartbeat: return "heartbeat"
        case .probe: return "probe"
        case .ack: return "ack"
        case .report: return "report"
        case .versions: return "versions"
        }
    }

    /// Bytes after the type byte.
    public var bodySize: Int {
        let stamp = 32 + 8
        switch self {
        case .digest(let digest):
            return 12 + 1 + (digest.epoch == nil ? 0 : stamp) + digest.rumors.wireSize(countBytes: 1)
        case .buckets(let buckets):
            return 1 + 2 + 4 * buckets.hashes.count
        case .delta(let delta):
            return 1 + 2 + 2 * delta.buckets.count + delta.updates.wireSize(countBytes: 4) + 1
        case .heartbeat(let heartbeat):
            // The long form, leader in full: what a receiver not known to hold us gets.
            return 1 + 32 + Self.varintSize(heartbeat.epoch.number) + 8 + 2 + heartbeat.proof.count
                + (heartbeat.scope == nil ? 0 : 9)
        case .probe:
            return stamp
        case .ack(let ack):
            return 4 + Self.varintSize(ack.number)
        case .report(let report):
            return stamp + 1 + 32 * report.missing.count
        case .versions(let versions):
            return 1 + 2 + 2 * versions.buckets.count + 4 + 20 * versions.entries.count + 1
        }
    }
}

extension GossipMessage {
    /// Bytes of `value` as an unsigned LEB128 varint (7 bits a byte), as the codec writes it.
    static func varintSize(_ value: UInt64) -> Int {
        value == 0 ? 1 : (64 - value.leadingZeroBitCount + 6) / 7
    }
}

extension Updates {
    /// Two entry counts, then per record id, version and payload, per tombstone id, version,
    /// kind, issuer and proof.
    func wireSize(countBytes: Int) -> Int {
        var size = 2 * countBytes
        for record in records { size += record.wireSize }
        for tombstone in tombstones { size += tombstone.wireSize }
        return size
    }
}

extension MemberRecord {
    var wireSize: Int { 32 + 8 + 2 + payload.count }
}

extension Tombstone {
    var wireSize: Int { 32 + 8 + 1 + 32 + 2 + proof.count }
}

extension MemberEntry {
    var wireSize: Int { (record?.wireSize ?? 0) + (tombstone?.wireSize ?? 0) }
}
