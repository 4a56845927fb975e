/// How an epoch reaches every member, and who watches whom, without anyone's load growing with N.
///
/// The trie's path space is the tree. The leader holds the whole space; it splits a scope into
/// four quarters (two more bits of prefix), keeps the quarter it sits in and hands the heartbeat
/// to one member of each other non-empty quarter, naming that quarter as the receiver's scope;
/// it then does the same inside its own quarter, down to where it is alone. Every receiver does
/// the same inside the scope it was handed. So every member receives one heartbeat, sends about
/// one, and nobody sends more than three per level (the leader: 3 · log4 N, 21 at N = 10,000).
///
/// Whoever hands a member the heartbeat watches it for that epoch: it expects an `ack`, resends
/// while none comes, hands the scope to a stand-in after two silent rounds (so a dead member's
/// part of the tree still hears the epoch), and reports the member to the leader if the whole
/// epoch passes without one. Which member of a quarter is chosen depends on the epoch, so every
/// member has a different watcher each epoch: a hostile watcher that hides a dead member hides
/// it for one epoch, and a hostile forwarder that drops heartbeats silences a different part of
/// the mesh each time. Reports only make the leader probe; only its own unanswered probes prune.
extension Scope {
    /// The quarters of this scope (halves at the last bit), in path order.
    var parts: [Scope] {
        guard bits < 64 else { return [] }
        let step: UInt8 = bits == 63 ? 1 : 2
        let shift = UInt64(64 - Int(bits) - Int(step))
        return (0..<(UInt64(1) << UInt64(step))).map { Scope(bits: bits + step, prefix: prefix | $0 << shift) }
    }
}

/// A member this node handed the current epoch to, and whether it answered.
struct WatchedMember: Sendable {
    var id: NodeID
    var scope: Scope
    var acked = false
    /// A stand-in has been handed this member's scope (or this is a stand-in).
    var covered = false
}

/// This node's duties for the epoch it follows: whom it handed the epoch to, and which scopes
/// it has passed the heartbeat on in (a scope is worked once per epoch, whoever names it).
struct WatchBook: Sendable {
    var epoch: EpochStamp
    var adoptedAt: Instant
    var watched: [WatchedMember] = []
    var scopes: [Scope] = []
    var retries = 0
    var nextRetry: Instant

    /// Scopes worked per epoch at most: one from the tree, one more from a stand-in request.
    static let maxScopes = 4

    var missing: [NodeID] { watched.filter { !$0.acked }.map(\.id) }

    /// An acknowledgement of this epoch or a later one of its line.
    mutating func noteAck(_ ack: Ack, from: NodeID) {
        guard ack.isOnLine(of: epoch.leader), ack.number >= epoch.number else { return }
        for index in watched.indices where watched[index].id == from { watched[index].acked = true }
    }
}

extension GossipEngine {
    /// The members this node hands the epoch to when it works `scope`, with their scopes.
    func delegations(of scope: Scope, epoch: EpochStamp) -> [WatchedMember] {
        let mine = MemberStore.path(of: me)
        guard scope.contains(mine) else { return [] }
        var out: [WatchedMember] = []
        var current = scope
        while current.bits < 64 {
            var next: Scope?
            for part in current.parts {
                if part.contains(mine) {
                    next = part
                } else {
                    hand(part, epoch: epoch, into: &out)
                }
            }
            guard let next, store.presentCount(in: next) > 1 else { break }
            current = next
        }
        return out
    }

    /// Hands `part` to a settled member of it. Young members (joiners, or identities that
    /// answer nothing) never work a part for others: where the sample finds no settled member,
    /// small parts get the heartbeat member by member, as leaves, and large ones are split and
    /// worked here. So a flood of fresh identities costs the members whose parts it fills one
    /// heartbeat per identity, and cannot cut an honest member off its epochs.
    private func hand(_ part: Scope, epoch: EpochStamp, into out: inout [WatchedMember]) {
        let count = store.presentCount(in: part)
        guard count > 0, out.count < Self.maxHanded else { return }
        if let id = delegate(of: part, epoch: epoch, skipping: []) {
            out.append(WatchedMember(id: id, scope: part))
        } else if count <= Self.sampled || part.bits >= 64 {
            for index in 0..<count {
                guard out.count < Self.maxHanded, let id = store.presentMember(in: part, at: index), id != me else {
                    continue
                }
                out.append(WatchedMember(id: id, scope: Scope(bits: 64, prefix: MemberStore.path(of: id))))
            }
        } else {
            for sub in part.parts { hand(sub, epoch: epoch, into: &out) }
        }
    }

    /// Candidates looked at per part, and heartbeats one scope may cost at most.
    static var sampled: Int { 8 }
    static var maxHanded: Int { 1024 }

    /// The settled member of `part` that works it this epoch: a pseudo-random one, so that
    /// watchers and forwarders change every epoch; nil when the sample holds none.
    func delegate(of part: Scope, epoch: EpochStamp, skipping: [NodeID]) -> NodeID? {
        let count = store.presentCount(in: part)
        guard count > 0 else { return nil }
        let seed = SplitMix64.mix(epoch.number ^ SplitMix64.mix(part.prefix ^ UInt64(part.bits) << 56))
        let start = Int(truncatingIfNeeded: seed % UInt64(count))
        for offset in 0..<min(count, Self.sampled) {
            guard let id = store.presentMember(in: part, at: (start + offset) % count), id != me,
                !skipping.contains(id), !isYoung(id)
            else { continue }
            return id
        }
        return nil
    }

    /// Works `scope` for the epoch we follow: hands the signed heartbeat on and starts watching
    /// the receivers. Once per scope per epoch.
    mutating func passOn(_ heartbeat: Heartbeat, scope: Scope?, now: Instant) -> [Outgoing] {
        guard let scope, heartbeat.epoch == liveness.epoch, var book = liveness.watch,
            book.epoch == heartbeat.epoch, !book.scopes.contains(scope), book.scopes.count < WatchBook.maxScopes
        else { return [] }
        book.scopes.append(scope)
        let handed = delegations(of: scope, epoch: heartbeat.epoch).filter { member in
            !book.watched.contains { $0.id == member.id }
        }
        book.watched += handed
        liveness.watch = book
        return handed.map { member in
            var copy = heartbeat
            copy.scope = member.scope
            return Outgoing(to: .member(member.id), message: .heartbeat(copy))
        }
    }

    /// Starts the watch of a newly adopted epoch. The previous watch goes on until a whole
    /// interval has passed since it began (a member deep in a lossy tree adopts late, and its
    /// members deserve the same time to answer as everyone's); what it leaves unanswered is
    /// then reported to the leader.
    mutating func startWatch(_ epoch: EpochStamp, now: Instant) -> [Outgoing] {
        var out = liveness.previousWatch.map { report($0, now: now) } ?? []
        liveness.previousWatch = nil
        if let current = liveness.watch, current.epoch.leader == epoch.leader, !current.missing.isEmpty {
            if now < current.adoptedAt + config.heartbeatInterval {
                liveness.previousWatch = current
            } else {
                out += report(current, now: now)
            }
        }
        liveness.watch = WatchBook(epoch: epoch, adoptedAt: now, nextRetry: now + config.ackWindow)
        return out
    }

    /// Tells the leader of the epoch we follow which members of `book` never answered, in
    /// reports of at most `GossipLimits.maxReported` members each.
    private mutating func report(_ book: WatchBook, now: Instant) -> [Outgoing] {
        guard let leader = liveness.epoch?.leader, leader == book.epoch.leader else { return [] }
        let missing = book.missing.filter { store.isPresent($0) }
        guard !missing.isEmpty else { return [] }
        let reports = stride(
            from: 0, to: min(missing.count, GossipLimits.maxReportedPerEpoch), by: GossipLimits.maxReported
        )
        .map {
            Report(epoch: book.epoch, missing: Array(missing[$0..<min($0 + GossipLimits.maxReported, missing.count)]))
        }
        if leader == me { return reports.flatMap { receiveReport($0, from: me, now: now) } }
        // Sent three times, a round apart: a lost report costs a crashed member an epoch (at 10%
        // loss two copies were both lost in one of 20 simulated crashes, 5.4 s to prune).
        liveness.pendingReports = (reports, now + config.syncInterval, 2)
        return reports.map { Outgoing(to: .member(leader), message: .report($0)) }
    }

    /// Every round after the watch's deadline: resend to members that have not acknowledged,
    /// and after two silent rounds hand each one's scope to a stand-in.
    mutating func watchTick(now: Instant) -> [Outgoing] {
        var out: [Outgoing] = []
        if let (reports, due, left) = liveness.pendingReports, now >= due {
            liveness.pendingReports = left > 1 ? (reports, now + config.syncInterval, left - 1) : nil
            if let leader = liveness.epoch?.leader, leader != me {
                out += reports.filter { $0.epoch.leader == leader }.map {
                    Outgoing(to: .member(leader), message: .report($0))
                }
            }
        }
        if var previous = liveness.previousWatch {
            if now >= previous.adoptedAt + config.heartbeatInterval {
                liveness.previousWatch = nil
                out += report(previous, now: now)
            } else if now >= previous.nextRetry, let signed = liveness.signed, signed.epoch == liveness.epoch {
                // The epoch we follow now: answering it answers the previous one too.
                previous.nextRetry = now + config.syncInterval
                liveness.previousWatch = previous
                out += previous.missing.map { Outgoing(to: .member($0), message: .heartbeat(signed)) }
            }
        }
        guard var book = liveness.watch, book.epoch == liveness.epoch, now >= book.nextRetry,
            let signed = liveness.signed, signed.epoch == book.epoch
        else { return out }
        book.nextRetry = now + config.syncInterval
        book.retries += 1
        var standIns: [WatchedMember] = []
        for index in book.watched.indices where !book.watched[index].acked {
            let member = book.watched[index]
            var copy = signed
            copy.scope = member.scope
            out.append(Outgoing(to: .member(member.id), message: .heartbeat(copy)))
            guard book.retries >= 2, !member.covered, store.presentCount(in: member.scope) > 1 else { continue }
            book.watched[index].covered = true
            let skipping = book.watched.map(\.id) + standIns.map(\.id)
            if let id = delegate(of: member.scope, epoch: book.epoch, skipping: skipping) {
                standIns.append(WatchedMember(id: id, scope: member.scope, covered: true))
                out.append(Outgoing(to: .member(id), message: .heartbeat(copy)))
            }
        }
        book.watched += standIns
        liveness.watch = book
        return out
    }

    /// An acknowledgement of the epoch we follow from a member we handed it to.
    mutating func noteWatchAck(_ ack: Ack, from: NodeID) {
        liveness.watch?.noteAck(ack, from: from)
        liveness.previousWatch?.noteAck(ack, from: from)
    }
}
