/// Choosing whom to talk to.
extension GossipEngine {
    /// Up to `count` distinct present members other than us (and `except`), uniformly at random,
    /// young ones (see `LeaderEligibility`) taking one slot, or more only when too few settled
    /// members are left to fill the rest.
    ///
    /// Young members are new joiners, which sync on their own, or identities minted in a flood
    /// that answer nothing: unlimited, a flood of those took most of every fanout, and a crashed
    /// leader's prune, spread by its successor, reached the last honest member after the bar. In
    /// a small mesh that is still joining (the demo's four nodes, two of them young) the young
    /// fill what the settled cannot, or news would reach the newest members a round late.
    ///
    /// Rejection sampling over the trie's live counts: O(count · log N) per round instead of
    /// materialising the view, which is what keeps 10,000 simulated nodes cheap.
    mutating func pickPeers(_ count: Int, except: NodeID? = nil) -> [NodeID] {
        let excluded = (store.isPresent(me) ? 1 : 0) + (except.map { store.isPresent($0) ? 1 : 0 } ?? 0)
        let available = store.presentCount - excluded
        guard available > 0, count > 0 else { return [] }
        if available <= count {
            return store.presentMembers.filter { $0 != me && $0 != except }
        }
        let young = liveness.presentSince.keys.filter {
            $0 != me && $0 != except && isYoung($0) && store.isPresent($0)
        }.count
        let youngSlots = max(1, count - (available - young))
        var picked: [NodeID] = []
        // In a flood most present members are young, and sampling would mostly hit them: then
        // the settled members are listed (O(N), only while a flood lasts) and drawn from.
        if young * 2 > available {
            var settled = store.presentMembers.filter { $0 != me && $0 != except && !isYoung($0) }
            while picked.count < count - youngSlots, !settled.isEmpty {
                picked.append(settled.remove(at: Int.random(in: 0..<settled.count, using: &rng)))
            }
            var attempts = 0
            var youngTaken = 0
            while picked.count < count, youngTaken < youngSlots, attempts < count * 8 {
                attempts += 1
                guard let id = store.randomPresent(using: &rng), id != me, id != except, isYoung(id),
                    !picked.contains(id)
                else { continue }
                picked.append(id)
                youngTaken += 1
            }
            while picked.count < count, !settled.isEmpty {
                picked.append(settled.remove(at: Int.random(in: 0..<settled.count, using: &rng)))
            }
            return picked
        }
        var youngPicked = 0
        var attempts = 0
        while picked.count < count && attempts < count * 8 {
            attempts += 1
            guard let id = store.randomPresent(using: &rng), id != me, id != except, !picked.contains(id) else {
                continue
            }
            if isYoung(id) {
                if youngPicked >= youngSlots { continue }
                youngPicked += 1
            }
            picked.append(id)
        }
        return picked
    }
}

/// Pruned members we keep trying to reach, so that both sides of a healed partition find each
/// other again without an operator. Members that left are not re-dialled.
struct RedialTable: Sendable {
    struct Target: Sendable {
        var id: NodeID
        var since: Instant?
        var due: Instant?
        var backoff: Duration
    }

    private(set) var targets: [Target] = []

    mutating func remember(_ id: NodeID) {
        guard !targets.contains(where: { $0.id == id }) else { return }
        targets.append(Target(id: id, since: nil, due: nil, backoff: .zero))
    }

    mutating func forget(_ id: NodeID) {
        targets.removeAll { $0.id == id }
    }

    /// The first target that is due, with its backoff doubled; at most one per round, so that a
    /// large partition costs each node one extra message per round at most.
    mutating func next(now: Instant, config: GossipConfig) -> NodeID? {
        var chosen: NodeID?
        targets.removeAll { target in
            guard let since = target.since else { return false }
            return now.since(since) > config.redialGiveUpAfter
        }
        for index in targets.indices {
            if targets[index].since == nil {
                targets[index].since = now
                targets[index].backoff = config.redialInitialBackoff
                targets[index].due = now + config.redialInitialBackoff
            }
            guard chosen == nil, let due = targets[index].due, now >= due else { continue }
            chosen = targets[index].id
            targets[index].backoff = min(targets[index].backoff * 2, config.redialMaxBackoff)
            targets[index].due = now + targets[index].backoff
        }
        return chosen
    }
}
