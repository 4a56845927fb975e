/// Runs many ``GossipEngine``s (exactly the daemon's protocol code) over a simulated network in
/// one thread, with simulated time, so a 10,000-node run is reproducible from its seed.
public struct Simulator {
    private enum Event {
        case tick(Int)
        case deliver(to: Int, from: Int, GossipMessage)
    }

    public let config: SimulationConfig
    private var engines: [GossipEngine] = []
    private var ids: [NodeID] = []
    private var index: [NodeID: Int] = [:]
    private var alive: [Bool] = []
    private var group: [UInt8] = []
    private var bootstrap: [[Int]] = []
    private var queue = EventQueue<Event>()
    private var rng: SplitMix64
    private var now: UInt64 = 0
    private let payload: [UInt8]
    private var report: SimulationReport

    // Measurement state.
    private var measuring = false
    private var sentBytes: [Int] = []
    private var receivedBytes: [Int] = []
    private var sentMessages = 0
    private var watchedJoin: NodeID?
    private var joinedAt: [UInt64?] = []
    private var joinedCount = 0
    private var crashed: NodeID?
    private var prunedAt: [UInt64?] = []
    private var prunedCount = 0
    private var partitioned = false
    private var leaderChanges = 0

    public init(config: SimulationConfig) {
        var config = config
        // The store limit bounds what a flood of identities costs a daemon; a simulated mesh is
        // honest and may be larger than the daemon's default.
        config.gossip.maxMembers = max(config.gossip.maxMembers, 2 * config.nodes + 64)
        self.config = config
        rng = SplitMix64(seed: config.seed &* 0x9E37_79B9_7F4A_7C15 &+ 1)
        payload = [UInt8](repeating: 0xA5, count: config.payloadBytes)
        report = SimulationReport(
            nodes: config.nodes, seed: config.seed, syncInterval: config.gossip.syncInterval.seconds,
            heartbeatInterval: config.gossip.heartbeatInterval.seconds)
    }

    /// Runs every phase and returns the numbers.
    public mutating func run() -> SimulationReport {
        startConvergedMesh()
        advance(to: config.warmup.nanoseconds)

        measuring = true
        let windowStart = now
        advance(to: now + config.steadyWindow.nanoseconds)
        measuring = false
        let window = Double(now - windowStart) / 1e9
        let members = Double(config.nodes)
        report.steadyBytesPerNodeMean = Double(sentBytes.reduce(0, +)) / members / window
        report.steadyBytesPerNodeMax = Double(sentBytes.max() ?? 0) / window
        report.steadyMessagesPerNodeMean = Double(sentMessages) / members / window
        if let busiest = sentBytes.indices.max(by: {
            sentBytes[$0] + receivedBytes[$0] < sentBytes[$1] + receivedBytes[$1]
        }) {
            report.steadyBusiestOutPerSecond = Double(sentBytes[busiest]) / window
            report.steadyBusiestInPerSecond = Double(receivedBytes[busiest]) / window
        }

        measureJoin()
        measureCrash()
        if let partition = config.partition { measurePartition(partition) }

        advance(to: now + config.settle.nanoseconds)
        let summaries = engines.indices.filter { alive[$0] }.map { engines[$0].store.summary }
        report.converged = Set(summaries).count == 1
        report.simulatedSeconds = Double(now) / 1e9
        report.rejections = engines.reduce(0) { $0 + $1.rejections.total }
        return report
    }

    /// A fleet rolled out with one token: a mesh of one member that has led alone for a few
    /// epochs, then `joiners` fresh members joining through it within `spread`. Settled when
    /// every member holds every other one present; then `settle` more to catch late prunes.
    /// Every prune counts as false: nobody crashes.
    public mutating func runMassJoin(joiners: Int, spread: Duration = .milliseconds(200)) -> MassJoinReport {
        let creator = addNode(randomID(), store: nil)
        send(engines[creator].publish(record(ids[creator], version: 1), now: instant), from: creator)
        advance(to: now + config.warmup.nanoseconds)
        let start = now
        for _ in 0..<joiners {
            let node = addNode(randomID(), store: nil)
            bootstrap[node] = [creator]
            engines[node].setBootstrapPeers(count: 1)
        }
        let total = joiners + 1
        var pending = (1...joiners).map { node in
            (node, start + UInt64.random(in: 0...spread.nanoseconds, using: &rng))
        }
        pending.sort { $0.1 < $1.1 }
        for (node, at) in pending {
            advance(to: at)
            send(engines[node].publish(record(ids[node], version: 1), now: instant), from: node)
        }
        advance(until: start + config.phaseTimeout.nanoseconds) { sim in
            sim.engines.allSatisfy { $0.store.presentCount == total }
        }
        var result = MassJoinReport(joiners: joiners, seed: config.seed)
        if engines.allSatisfy({ $0.store.presentCount == total }) {
            result.settledSeconds = Double(now - start) / 1e9
        }
        advance(to: now + config.settle.nanoseconds)
        result.prunes = report.falsePrunes
        result.leaderChanges = leaderChanges
        result.leaders = Set(engines.compactMap(\.leader)).count
        result.converged = Set(engines.map(\.store.summary)).count == 1
        return result
    }

    // MARK: Phases

    private mutating func startConvergedMesh() {
        var seed = MemberStore()
        var ignored = RejectionCounts()
        var members: [NodeID] = []
        for _ in 0..<config.nodes {
            let id = randomID()
            members.append(id)
            _ = seed.merge(
                MemberEntry(id: id, record: MemberRecord(owner: id, version: 1, payload: payload)),
                validator: AcceptAll(), rejections: &ignored)
        }
        _ = seed.lowestPresent()
        for id in members { addNode(id, store: seed) }
    }

    private mutating func measureJoin() {
        let id = randomID()
        let newcomer = addNode(id, store: nil)
        let members = (0..<newcomer).filter { alive[$0] }
        var peers: [Int] = []
        while peers.count < min(config.bootstrapPeers, members.count) {
            let pick = members[Int.random(in: 0..<members.count, using: &rng)]
            if !peers.contains(pick) { peers.append(pick) }
        }
        bootstrap[newcomer] = peers
        engines[newcomer].setBootstrapPeers(count: peers.count)
        watchedJoin = id
        joinedAt = Array(repeating: nil, count: engines.count)
        let start = now
        send(engines[newcomer].publish(record(id, version: 1), now: instant), from: newcomer)
        let target = members.count
        advance(until: start + config.phaseTimeout.nanoseconds) { $0.joinedCount >= target }
        let times = members.compactMap { joinedAt[$0] }.map { Double($0 - start) / 1e9 }.sorted()
        report.joinSeconds = [0.5, 0.99, 1.0].map { Simulator.quantile(times, $0, of: target) }
    }

    private mutating func measureCrash() {
        let leader = engines[0].leader
        let candidates = engines.indices.filter { alive[$0] && (ids[$0] == leader) == config.crashLeader }
        guard !candidates.isEmpty else { return }
        let victim = candidates[Int.random(in: 0..<candidates.count, using: &rng)]
        alive[victim] = false
        crashed = ids[victim]
        prunedAt = Array(repeating: nil, count: engines.count)
        let start = now
        let target = alive.filter { $0 }.count
        advance(until: start + config.phaseTimeout.nanoseconds) { $0.prunedCount >= target }
        let times = engines.indices.filter { alive[$0] }.compactMap { prunedAt[$0] }
            .map { Double($0 - start) / 1e9 }.sorted()
        report.pruneSeconds = [0.99, 1.0].map { Simulator.quantile(times, $0, of: target) }
    }

    private mutating func measurePartition(_ length: Duration) {
        let live = engines.indices.filter { alive[$0] }
        for (position, node) in live.enumerated() { group[node] = position < live.count / 2 ? 0 : 1 }
        partitioned = true
        advance(to: now + length.nanoseconds)
        for node in live { group[node] = 0 }
        let healedAt = now
        for node in sentBytes.indices {
            sentBytes[node] = 0
            receivedBytes[node] = 0
        }
        measuring = true
        advance(until: now + config.phaseTimeout.nanoseconds) { sim in
            live.allSatisfy { sim.engines[$0].store.presentCount == live.count }
        }
        if live.allSatisfy({ engines[$0].store.presentCount == live.count }) {
            report.partitionHealSeconds = Double(now - healedAt) / 1e9
        }
        advance(to: now + config.settle.nanoseconds)
        measuring = false
        report.healBytesPerNodeMean = Double(live.map { sentBytes[$0] }.reduce(0, +)) / Double(max(live.count, 1))
        report.healBytesPerNodeMax = Double(live.map { sentBytes[$0] }.max() ?? 0)
        partitioned = false
    }

    // MARK: Network

    @discardableResult
    private mutating func addNode(_ id: NodeID, store: MemberStore?) -> Int {
        let node = engines.count
        var engine = GossipEngine(
            me: id, config: config.gossip, validator: AcceptAll(), signer: NoSignature(),
            rng: SplitMix64(seed: rng.next()))
        if let store { engine.restore(store) }
        engines.append(engine)
        ids.append(id)
        index[id] = node
        alive.append(true)
        group.append(0)
        bootstrap.append([])
        sentBytes.append(0)
        receivedBytes.append(0)
        joinedAt.append(nil)
        prunedAt.append(nil)
        let phase = UInt64.random(in: 0..<config.gossip.tickInterval.nanoseconds, using: &rng)
        queue.push(.tick(node), at: now + phase)
        return node
    }

    private var instant: Instant { Instant(nanoseconds: now) }

    private func record(_ id: NodeID, version: UInt64) -> MemberRecord {
        MemberRecord(owner: id, version: version, payload: payload)
    }

    private mutating func randomID() -> NodeID {
        NodeID(rng.next(), rng.next(), rng.next(), rng.next())
    }

    private mutating func advance(to time: UInt64) {
        advance(until: time) { _ in false }
    }

    /// Processes events up to `deadline`, checking `done` every 10 ms of simulated time.
    private mutating func advance(until deadline: UInt64, done: (Simulator) -> Bool) {
        let step: UInt64 = 10_000_000
        var checkpoint = now + step
        while let next = queue.nextTime, next <= deadline {
            if next > checkpoint {
                now = checkpoint
                if done(self) { return }
                checkpoint = max(checkpoint + step, next / step * step)
                continue
            }
            let (time, event) = queue.pop()!
            now = time
            report.eventsProcessed += 1
            switch event {
            case .tick(let node):
                guard alive[node] else { continue }
                queue.push(.tick(node), at: now + config.gossip.tickInterval.nanoseconds)
                send(engines[node].tick(now: instant), from: node)
            case .deliver(let node, let from, let message):
                guard alive[node] else { continue }
                send(engines[node].receive(message, from: ids[from], now: instant), from: node)
            }
        }
        now = max(now, deadline)
    }

    private mutating func send(_ outgoing: [Outgoing], from node: Int) {
        for message in outgoing {
            report.bytesByKind[message.message.kind, default: 0] += message.message.wireSizeEstimate
            if measuring {
                sentBytes[node] += message.message.wireSizeEstimate
                sentMessages += 1
            }
            let target: Int?
            switch message.to {
            case .member(let id): target = index[id]
            case .bootstrap(let position):
                target = bootstrap[node].indices.contains(position) ? bootstrap[node][position] : nil
            }
            guard let target, group[target] == group[node] else { continue }
            if config.loss > 0 && Double.random(in: 0..<1, using: &rng) < config.loss { continue }
            if measuring { receivedBytes[target] += message.message.wireSizeEstimate }
            let latency = UInt64.random(
                in: config.latencyMin.nanoseconds...max(config.latencyMin.nanoseconds, config.latencyMax.nanoseconds),
                using: &rng)
            queue.push(.deliver(to: target, from: node, message.message), at: now + latency)
        }
        for event in engines[node].drainEvents() { observe(event, at: node) }
    }

    private mutating func observe(_ event: MembershipEvent, at node: Int) {
        switch event {
        case .joined(let id) where id == watchedJoin:
            if joinedAt[node] == nil && ids[node] != id {
                joinedAt[node] = now
                joinedCount += 1
            }
        case .pruned(let id):
            if id == crashed {
                if prunedAt[node] == nil {
                    prunedAt[node] = now
                    prunedCount += 1
                }
            } else if !partitioned {
                report.falsePrunes += 1
            }
        case .leaderChanged:
            leaderChanges += 1
        case .republishNeeded(let version):
            send(engines[node].publish(record(ids[node], version: version), now: instant), from: node)
        default:
            break
        }
    }

    static func quantile(_ sorted: [Double], _ fraction: Double, of population: Int) -> Double? {
        // Ceiling by hand: `rounded(.up)` would pull in libm, which this library does not link.
        let exact = fraction * Double(population)
        let needed = max(1, Int(exact) + (Double(Int(exact)) < exact ? 1 : 0))
        return needed <= sorted.count ? sorted[needed - 1] : nil
    }
}
