import Foundation
import GossipCRDT
import MeshCore
import Testing

@testable import smegd

/// Many `GossipCore`s, the daemon's per-mesh gossip logic with real frames (pair keys, reply
/// budgets, introductions), over a simulated network in virtual time: joins, a kill, a
/// partition and its heal, without sockets, root or real time.
struct SimulatedMesh {
    struct Node {
        var core: GossipCore
        let identity: NodeIdentity
        let address: PeerAddress
        var alive = true
        var version: UInt64 = 0
    }

    let mesh = MeshID(bytes: Array(40..<50))!
    let secret = MeshSecret(bytes: Array(repeating: 7, count: 32))!
    private(set) var nodes: [Node] = []
    private(set) var now = GossipCRDT.Instant.zero
    private var queue = EventQueue<(to: PeerAddress, from: PeerAddress, bytes: [UInt8])>()
    private var rng = SplitMix64(seed: 11)
    /// Pairs of node indices that cannot reach each other.
    var cut: (Int, Int) -> Bool = { _, _ in false }
    private(set) var frames = 0
    /// When the last frame on each link arrives: links are FIFO, as a real path mostly is (and
    /// a replay window of 16 is sized for that), with 1-20 ms of delay each.
    private var linkClear: [Int: UInt64] = [:]
    private(set) var refusals: [String: Int] = [:]

    var tickInterval = Duration.milliseconds(100)

    /// Adds a node; every node but the first joins through the first one's address.
    @discardableResult
    mutating func add() throws -> Int {
        let index = nodes.count
        let identity = try NodeIdentity(
            seed: [UInt8(index & 0xFF), UInt8(index >> 8)] + Array(repeating: 5, count: 30))
        let address = PeerAddress(ip: IPAddress("10.1.\(index / 200).\(index % 200 + 1)")!, port: 7946)
        let validator = MeshRecordValidator(mesh: mesh)
        let engine = GossipEngine(
            me: identity.nodeID, config: GossipConfig(), validator: validator,
            signer: MeshGossipSigner(identity: identity, mesh: mesh), rng: SplitMix64(seed: rng.next()))
        var core = GossipCore(
            engine: engine, wire: MeshWire(session: FrameSession(mesh: mesh, secret: secret, identity: identity)),
            mesh: mesh, overlayFallback: false)
        if index > 0 { core.bootstrap = [nodes[0].address] }
        nodes.append(Node(core: core, identity: identity, address: address))
        publish(index)
        return index
    }

    mutating func publish(_ index: Int) {
        let node = nodes[index]
        let version = max(node.core.engine.nextOwnVersion, node.version + 1)
        let record = NodeRecord(
            identity: node.identity, mesh: mesh,
            endpoints: [Endpoint("\(node.address.ip):51820")!], wireGuardPort: 51820,
            gossipPort: node.address.port, version: version)
        let signed = try! SignedNodeRecord.sign(record, identity: node.identity, mesh: mesh)
        let member = MemberRecord(owner: node.identity.nodeID, version: version, payload: signed.encoded)
        nodes[index].version = version
        perform(nodes[index].core.publish(member, decoded: record, now: now), from: index)
    }

    mutating func kill(_ index: Int) { nodes[index].alive = false }

    /// Runs every tick and delivery up to `now + duration`.
    mutating func run(for duration: Duration) {
        let end = now + duration
        var nextTick = now
        while now < end {
            let tickAt = nextTick
            if let next = queue.nextTime, next <= tickAt.nanoseconds {
                let (time, item) = queue.pop()!
                now = GossipCRDT.Instant(nanoseconds: max(time, now.nanoseconds))
                deliver(item)
                continue
            }
            now = tickAt
            for index in nodes.indices where nodes[index].alive {
                perform(nodes[index].core.tick(now: now), from: index)
            }
            nextTick = now + tickInterval
        }
    }

    private mutating func deliver(_ item: (to: PeerAddress, from: PeerAddress, bytes: [UInt8])) {
        guard let target = nodes.firstIndex(where: { $0.address == item.to }), nodes[target].alive else { return }
        perform(nodes[target].core.receive(item.bytes, from: item.from, now: now), from: target)
    }

    private mutating func perform(_ effects: [GossipCore.Effect], from index: Int) {
        for effect in effects {
            switch effect {
            case .send(let bytes, let to):
                frames += 1
                guard let target = nodes.firstIndex(where: { $0.address == to }), !cut(index, target) else { continue }
                let link = index * 4096 + target
                let arrival = max(now.nanoseconds + (1 + rng.next() % 20) * 1_000_000, (linkClear[link] ?? 0) + 1)
                linkClear[link] = arrival
                queue.push((to, nodes[index].address, bytes), at: arrival)
            case .rejected(let reason):
                refusals[reason, default: 0] += 1
            case .legacySender, .peerHasOurView, .opened, .synced:
                break
            }
        }
        // As the daemon does: a node pruned while alive, or whose record was superseded, comes back.
        for happened in nodes[index].core.takeEvents() {
            switch happened.event {
            case .pruned(let id) where id == nodes[index].identity.nodeID: publish(index)
            case .republishNeeded: publish(index)
            default: break
            }
        }
    }

    // MARK: Views

    func present(at index: Int) -> Set<NodeID> {
        Set(nodes[index].core.engine.members.map(\.owner))
    }

    func liveIDs(_ indices: some Sequence<Int>) -> Set<NodeID> {
        Set(indices.filter { nodes[$0].alive }.map { nodes[$0].identity.nodeID })
    }

    /// Every live node in `indices` sees exactly the live nodes of `indices`, under one leader.
    func agree(_ indices: [Int]) -> Bool {
        let want = liveIDs(indices)
        let live = indices.filter { nodes[$0].alive }
        let leaders = Set(live.map { nodes[$0].core.engine.leader })
        return leaders.count == 1 && leaders.first! != nil && live.allSatisfy { present(at: $0) == want }
    }

    /// Runs in steps of `step` until `done` holds or `limit` passes; the virtual time it took.
    mutating func time(until limit: Duration, step: Duration = .milliseconds(100), _ done: (Self) -> Bool) -> Duration?
    {
        let start = now
        while now.since(start) <= limit {
            if done(self) { return now.since(start) }
            run(for: step)
        }
        return nil
    }
}

@Suite struct GossipCoreTests {
    @Test func aJoinerIntroducesItselfAndEveryoneConverges() throws {
        var net = SimulatedMesh()
        for _ in 0..<3 { try net.add() }
        let joined = net.time(until: .seconds(5)) { $0.agree([0, 1, 2]) }
        #expect(joined != nil && joined! <= .seconds(2), "joined after \(String(describing: joined))")
        // Every node learns the others' addresses from proven frames, not only from records.
        net.run(for: .seconds(2))
        for index in 0..<3 {
            #expect(net.nodes[index].core.wire.learned.count == 2)
        }
        #expect(net.refusals.filter { $0.key != "reply-over-budget" }.isEmpty, "\(net.refusals)")
    }

    /// The daemon's own logic in one process at 50 nodes: 50 joins through one bootstrap node,
    /// then a kill -9. At 50 ms apart, joiners' first syncs bring each other as news and
    /// members see the lowest key arrive at different epochs: before the fixes this settled
    /// never, and the kill left four members on a dead leader's line.
    @Test(arguments: [300, 50]) func fiftyNodesJoinAndLoseOne(gapMilliseconds: Int) throws {
        let wall = ContinuousClock.now
        var net = SimulatedMesh()
        try net.add()
        for _ in 1..<50 {
            try net.add()
            net.run(for: .milliseconds(gapMilliseconds))
        }
        let all = Array(0..<50)
        let joined = net.time(until: .seconds(20)) { $0.agree(all) }
        #expect(joined != nil, "50 nodes did not converge")
        net.kill(17)
        let pruned = net.time(until: .seconds(10)) { $0.agree(all) }
        #expect(
            pruned != nil && pruned! <= .seconds(6), "the killed node was pruned after \(String(describing: pruned))")
        #expect(net.refusals.filter { $0.key != "reply-over-budget" }.isEmpty, "\(net.refusals)")
        let describe = { (value: Duration?) in value.map { "\($0.seconds) s" } ?? "never" }
        print(
            "GossipCore harness, 50 nodes \(gapMilliseconds) ms apart: settled \(describe(joined)) after the last join, killed node pruned "
                + "everywhere after \(describe(pruned)) (virtual time); \(net.frames) frames; wall time "
                + "\(ContinuousClock.now - wall)")
    }
}

extension GossipCoreTests {
    /// A 50-node mesh split in halves: each half prunes the other and goes on under its own
    /// leader, and once healed the mesh is whole again under one leader.
    @Test func fiftyNodesSplitInHalvesAndHeal() throws {
        let wall = ContinuousClock.now
        var net = SimulatedMesh()
        try net.add()
        for _ in 1..<50 {
            try net.add()
            net.run(for: .milliseconds(300))
        }
        let all = Array(0..<50)
        #expect(net.time(until: .seconds(20)) { $0.agree(all) } != nil, "50 nodes did not converge")
        net.run(for: .seconds(10))
        let low = Array(0..<25)
        let high = Array(25..<50)
        net.cut = { a, b in (a < 25) != (b < 25) }
        let split = net.time(until: .seconds(30)) { $0.agree(low) && $0.agree(high) }
        net.cut = { _, _ in false }
        let healed = net.time(until: .seconds(30)) { $0.agree(all) }
        let describe = { (value: Duration?) in value.map { "\($0.seconds) s" } ?? "never" }
        print(
            "GossipCore harness, 50 nodes split in halves: each half settled after \(describe(split)), healed "
                + "after \(describe(healed)) (virtual time); wall time \(ContinuousClock.now - wall)")
        #expect(split != nil && split! <= .seconds(10), "the halves settled after \(describe(split))")
        #expect(healed != nil && healed! <= .seconds(10), "the healed mesh settled after \(describe(healed))")
    }
}
