import GossipCRDT

/// Ids whose order is obvious in test output: `id(1) < id(2)`.
func id(_ n: UInt64) -> NodeID { NodeID(n, 0, 0, 0) }

func record(_ owner: UInt64, _ version: UInt64, payload: [UInt8] = [1, 2, 3]) -> MemberRecord {
    MemberRecord(owner: id(owner), version: version, payload: payload)
}

func pruned(_ member: UInt64, _ version: UInt64, by issuer: UInt64 = 0) -> Tombstone {
    Tombstone(member: id(member), version: version, kind: .pruned, issuer: id(issuer), proof: [9])
}

func left(_ member: UInt64, _ version: UInt64) -> Tombstone {
    Tombstone(member: id(member), version: version, kind: .left, issuer: id(member), proof: [7])
}

extension MemberStore {
    /// Merges through the lattice only, for tests that are about merge itself.
    @discardableResult
    mutating func add(_ record: MemberRecord) -> Bool {
        var rejections = RejectionCounts()
        return merge(Updates(records: [record]), validator: AcceptAll(), rejections: &rejections).count == 1
    }

    @discardableResult
    mutating func add(_ tombstone: Tombstone) -> Bool {
        var rejections = RejectionCounts()
        return merge(Updates(tombstones: [tombstone]), validator: AcceptAll(), rejections: &rejections).count == 1
    }

    static func with(_ updates: Updates) -> MemberStore {
        var store = MemberStore()
        var rejections = RejectionCounts()
        _ = store.merge(updates, validator: AcceptAll(), rejections: &rejections)
        return store
    }
}

/// Random updates over a small id space, so that generated stores collide often.
struct UpdateGenerator {
    var rng: SplitMix64

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    mutating func next() -> Updates {
        let member = UInt64.random(in: 1...6, using: &rng)
        let version = UInt64.random(in: 1...5, using: &rng)
        if Bool.random(using: &rng) || Int.random(in: 0..<3, using: &rng) > 0 {
            let payload = [UInt8(truncatingIfNeeded: rng.next() % 3)]
            return Updates(records: [record(member, version, payload: payload)])
        }
        let kind: TombstoneKind = Bool.random(using: &rng) ? .pruned : .left
        let issuer = kind == .left ? member : UInt64.random(in: 1...3, using: &rng)
        let tombstone = Tombstone(member: id(member), version: version, kind: kind, issuer: id(issuer), proof: [1])
        return Updates(tombstones: [tombstone])
    }

    mutating func batch(_ count: Int) -> [Updates] { (0..<count).map { _ in next() } }

    mutating func store(_ count: Int) -> MemberStore {
        var store = MemberStore()
        for updates in batch(count) { store.merge(MemberStore.with(updates)) }
        return store
    }
}

/// Delivers messages between engines at once and in order until nobody has anything to say.
struct Mesh {
    var engines: [NodeID: GossipEngine] = [:]
    var bytes = 0
    var messages = 0
    var dropped: (Outgoing, NodeID) -> Bool = { _, _ in false }

    @discardableResult
    mutating func deliver(_ outgoing: [Outgoing], from: NodeID, now: Instant) -> Int {
        var queue = outgoing.map { ($0, from) }
        var delivered = 0
        while !queue.isEmpty {
            let (message, sender) = queue.removeFirst()
            bytes += message.message.wireSizeEstimate
            messages += 1
            guard case .member(let target) = message.to, engines[target] != nil, !dropped(message, sender) else {
                continue
            }
            delivered += 1
            queue += engines[target]!.receive(message.message, from: sender, now: now).map { ($0, target) }
        }
        return delivered
    }

    mutating func tickAll(now: Instant) {
        for key in engines.keys.sorted() {
            let out = engines[key]!.tick(now: now)
            deliver(out, from: key, now: now)
        }
    }
}

func engine(_ n: UInt64, seed: UInt64 = 1, config: GossipConfig = GossipConfig()) -> GossipEngine {
    GossipEngine(
        me: id(n), config: config, validator: AcceptAll(), signer: NoSignature(), rng: SplitMix64(seed: seed &+ n))
}

func ms(_ value: UInt64) -> Instant { Instant(nanoseconds: value * 1_000_000) }
