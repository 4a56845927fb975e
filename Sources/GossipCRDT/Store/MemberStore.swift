/// The replicated add/remove map of members: a state-based CRDT.
///
/// Each entry is a lattice (the newest record and the newest removal of one member, see
/// ``MemberEntry``), and the map merges key by key, so merge is commutative, associative and
/// idempotent. A compact summary (entry count and a sum of entry hashes) lets two replicas learn
/// in a dozen bytes whether they agree; bucket hashes narrow a disagreement down to a few entries.
public struct MemberStore: Sendable {
    private var root: TrieNode = .empty
    /// Versions of removals that were compacted away: records at or below them stay rejected.
    public private(set) var floors: [NodeID: UInt64] = [:]
    /// Ids of the entries that hold a tombstone, so compaction need not scan the whole map.
    public private(set) var tombstoned: Set<NodeID> = []
    private var cachedMinimum: NodeID?
    private var minimumKnown = true

    public init() {}

    /// What a merge did to one entry.
    public enum Change: Sendable, Equatable {
        case unchanged
        /// The entry changed; `before` is what the store held.
        case changed(before: MemberEntry?, after: MemberEntry)
    }

    public var summary: StoreSummary { StoreSummary(hash: root.hash, count: UInt32(clamping: root.count)) }
    /// Entries held, removals included.
    public var count: Int { root.count }
    /// Members present in the view.
    public var presentCount: Int { root.liveCount }

    public func entry(for id: NodeID) -> MemberEntry? {
        root.lookup(path: EntryHash.path(of: id), id: id)?.entry
    }

    public func record(for id: NodeID) -> MemberRecord? { entry(for: id)?.record }

    public func isPresent(_ id: NodeID) -> Bool { entry(for: id)?.isPresent ?? false }

    /// Every entry, in an order that is the same on every replica.
    public var entries: [MemberEntry] {
        var out: [MemberEntry] = []
        out.reserveCapacity(root.count)
        root.visit {
            out.append($0.entry); return true
        }
        return out
    }

    /// Present members' ids.
    public var presentMembers: [NodeID] {
        var out: [NodeID] = []
        out.reserveCapacity(root.liveCount)
        root.visit { slot in
            if slot.entry.isPresent { out.append(slot.id) }
            return true
        }
        return out
    }

    /// The version vector: per member, the ``MemberEntry/clock`` of the newest state seen.
    public var versionVector: VersionVector {
        var vector = VersionVector()
        root.visit { slot in
            vector[slot.entry.id] = slot.entry.clock
            return true
        }
        for (id, floor) in floors { vector[id] = max(vector[id], floor &* 2 &+ 1) }
        return vector
    }

    /// What a replica whose version vector is `seen` lacks.
    public func delta(since seen: VersionVector) -> Updates {
        var out = Updates()
        root.visit { slot in
            if slot.entry.clock > seen[slot.entry.id] { out.append(slot.entry) }
            return true
        }
        return out
    }

    /// Applies the store's own rules and then joins `incoming` into the entry for its id.
    ///
    /// The validator is the caller's; pass ``AcceptAll`` for pure lattice tests.
    public mutating func merge(
        _ incoming: MemberEntry, validator: some RecordValidator, rejections: inout RejectionCounts
    ) -> Change {
        let path = EntryHash.path(of: incoming.id)
        let held = root.lookup(path: path, id: incoming.id)?.entry
        var accepted = MemberEntry(id: incoming.id)
        if let record = incoming.record {
            if let reason = reject(record, held: held, validator: validator) {
                rejections.add(reason)
            } else {
                accepted = MemberEntry(id: incoming.id, record: record)
            }
        }
        if let tombstone = incoming.tombstone {
            if let reason = reject(tombstone, held: held, validator: validator) {
                rejections.add(reason)
            } else {
                accepted = accepted.merged(with: MemberEntry(id: incoming.id, tombstone: tombstone))
            }
        }
        guard accepted.record != nil || accepted.tombstone != nil else { return .unchanged }
        let result = held.map { $0.merged(with: accepted) } ?? accepted
        guard result != held else { return .unchanged }
        store(result, path: path, before: held)
        return .changed(before: held, after: result)
    }

    /// Merges a whole replica, as a state-based CRDT join (anti-entropy in one step).
    ///
    /// Subtrees with equal hash and count are taken as equal, as the digest protocol does: a
    /// 64-bit collision is as unlikely here as there.
    public mutating func merge(_ other: MemberStore, validator: some RecordValidator = AcceptAll()) {
        var ignored = RejectionCounts()
        var incoming: [MemberEntry] = []
        root.entries(differingIn: other.root, into: &incoming)
        for entry in incoming { _ = merge(entry, validator: validator, rejections: &ignored) }
        for (id, floor) in other.floors { compact(id, floor: floor) }
    }

    /// Merges a batch from the wire; returns the entries that changed.
    public mutating func merge(
        _ updates: Updates, validator: some RecordValidator, rejections: inout RejectionCounts
    ) -> [(before: MemberEntry?, after: MemberEntry)] {
        var changes: [(before: MemberEntry?, after: MemberEntry)] = []
        for record in updates.records {
            if case .changed(let before, let after) = merge(
                MemberEntry(id: record.owner, record: record), validator: validator, rejections: &rejections)
            {
                changes.append((before, after))
            }
        }
        for tombstone in updates.tombstones {
            if case .changed(let before, let after) = merge(
                MemberEntry(id: tombstone.member, tombstone: tombstone), validator: validator,
                rejections: &rejections)
            {
                changes.append((before, after))
            }
        }
        return changes
    }

    /// Drops the removal of `id` once every live member has it, keeping only its version floor.
    ///
    /// The floor (8 bytes, never gossiped) keeps rejecting stale records of the member, so the
    /// compacted removal still cannot be undone by old gossip.
    public mutating func compact(_ id: NodeID, floor: UInt64) {
        floors[id] = max(floors[id] ?? 0, floor)
        let path = EntryHash.path(of: id)
        guard let held = root.lookup(path: path, id: id)?.entry, !held.isPresent,
            held.version <= floors[id]!
        else { return }
        root = root.replacing(path: path, id: id, with: nil)
        tombstoned.remove(id)
    }

    /// The lowest present key: the leader rule. Cached, since it changes only when that member goes.
    public mutating func lowestPresent() -> NodeID? {
        if !minimumKnown {
            var lowest: NodeID?
            root.visit { slot in
                if slot.entry.isPresent, lowest.map({ slot.entry.id < $0 }) ?? true { lowest = slot.entry.id }
                return true
            }
            cachedMinimum = lowest
            minimumKnown = true
        }
        return cachedMinimum
    }

    /// The lowest present key not in `excluded`, for leader failover. Scans: failover is rare.
    public func lowestPresent(excluding excluded: Set<NodeID>) -> NodeID? {
        var lowest: NodeID?
        root.visit { slot in
            let id = slot.entry.id
            if slot.entry.isPresent, !excluded.contains(id), lowest.map({ id < $0 }) ?? true { lowest = id }
            return true
        }
        return lowest
    }

    /// Present members whose trie path lies in `scope`, in O(log N).
    public func presentCount(in scope: Scope) -> Int {
        let (low, high) = presentRanks(scope)
        return high - low
    }

    /// The `index`-th present member of `scope` in path order; nil when there are not that many.
    public func presentMember(in scope: Scope, at index: Int) -> NodeID? {
        let (low, high) = presentRanks(scope)
        guard index >= 0, low + index < high else { return nil }
        return root.presentEntry(at: low + index).id
    }

    private func presentRanks(_ scope: Scope) -> (Int, Int) {
        let low = root.presentRank(below: scope.prefix)
        let span = scope.bits == 0 ? UInt64.max : scope.bits >= 64 ? 0 : UInt64.max >> UInt64(scope.bits)
        let (last, overflow) = scope.prefix.addingReportingOverflow(span)
        // The scope ends at `last` inclusive; "below last + 1" is everything when it ends at the top.
        let high = overflow || last == .max ? root.liveCount : root.presentRank(below: last + 1)
        return (low, high)
    }

    /// Where `id` sits in the path space that scopes divide.
    public static func path(of id: NodeID) -> UInt64 { EntryHash.path(of: id) }

    /// A uniformly chosen present member, in O(log N).
    public func randomPresent(using rng: inout some RandomNumberGenerator) -> NodeID? {
        guard root.liveCount > 0 else { return nil }
        return root.presentEntry(at: Int.random(in: 0..<root.liveCount, using: &rng)).id
    }

    /// Digest level: 16^level buckets holding about eight entries each, at most 4096 buckets.
    public static func bucketLevel(forCount count: Int) -> Int {
        var level = 0
        var buckets = 1
        while level < GossipLimits.maxBucketLevel && count > buckets * 8 {
            level += 1
            buckets *= 16
        }
        return level
    }

    /// The per-bucket hashes at `level`, truncated to 32 bits each for the wire.
    public func bucketHashes(level: Int) -> [UInt32] {
        var sums = [UInt64](repeating: 0, count: 1 << (4 * level))
        root.addBucketHashes(level: level, into: &sums)
        return sums.map { UInt32(truncatingIfNeeded: $0 ^ ($0 >> 32)) }
    }

    /// The entries in the given buckets at `level`.
    /// Each entry of `buckets` as its path, clock and the low half of its hash: what a replica
    /// needs to tell which of two entries is newer, or that two of one clock differ.
    public func versions(inBuckets buckets: [UInt16], level: Int) -> [EntryVersion] {
        var out: [EntryVersion] = []
        for bucket in buckets {
            root.visit(inBucket: Int(bucket), level: level) {
                out.append(
                    EntryVersion(path: $0.path, clock: $0.entry.clock, hash: UInt32(truncatingIfNeeded: $0.hash)))
            }
        }
        return out
    }

    /// The entries at `paths` (a path names one entry unless two ids collide in 64 bits).
    public func entries(atPaths paths: [UInt64], level: Int) -> [MemberEntry] {
        let wanted = Set(paths)
        var buckets = Set<UInt16>()
        for path in wanted { buckets.insert(UInt16(truncatingIfNeeded: path >> UInt64(64 - 4 * max(level, 1)))) }
        var out: [MemberEntry] = []
        for bucket in buckets.sorted() {
            root.visit(inBucket: Int(bucket), level: max(level, 1)) {
                if wanted.contains($0.path) { out.append($0.entry) }
            }
        }
        return out
    }

    public func entries(inBuckets buckets: [UInt16], level: Int) -> [MemberEntry] {
        var out: [MemberEntry] = []
        for bucket in buckets {
            root.visit(inBucket: Int(bucket), level: level) { out.append($0.entry) }
        }
        return out
    }

    private func reject(
        _ record: MemberRecord, held: MemberEntry?, validator: some RecordValidator
    )
        -> RejectReason?
    {
        if let floor = floors[record.owner], record.version <= floor { return .compacted }
        if let removed = held?.tombstone, record.version <= removed.version { return .removed }
        if let current = held?.record, !record.supersedes(current) { return .stale }
        return validator.accept(record) ? nil : .invalid
    }

    private func reject(
        _ tombstone: Tombstone, held: MemberEntry?, validator: some RecordValidator
    )
        -> RejectReason?
    {
        // A removal at exactly the floor may return: the leader re-issues it for members that come
        // back from a long cut-off still holding the removed member (see `reissueRemovals`).
        if let floor = floors[tombstone.member], tombstone.version < floor || held != nil && tombstone.version == floor
        {
            return .compacted
        }
        if let current = held?.tombstone, !tombstone.supersedes(current) { return .stale }
        if tombstone.kind == .left && tombstone.issuer != tombstone.member { return .wrongIssuer }
        return validator.accept(tombstone, issuer: record(for: tombstone.issuer)) ? nil : .invalid
    }

    private mutating func store(_ entry: MemberEntry, path: UInt64, before: MemberEntry?) {
        let slot = TrieSlot(path: path, entry: entry, hash: EntryHash.entry(entry, path: path))
        root = root.replacing(path: path, id: entry.id, with: slot)
        if entry.tombstone != nil { tombstoned.insert(entry.id) }
        if entry.isPresent, minimumKnown, cachedMinimum.map({ entry.id < $0 }) ?? true {
            cachedMinimum = entry.id
        } else if !entry.isPresent, before?.isPresent == true, cachedMinimum == entry.id {
            minimumKnown = false
        }
    }
}

extension TrieSlot {
    var id: NodeID { entry.id }
}
