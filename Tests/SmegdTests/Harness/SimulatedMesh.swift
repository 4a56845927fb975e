import Foundation
import GossipCRDT
import MeshCore

@testable import smegd

/// Many `MeshNode`s, the daemon's per-mesh logic with real frames (pair keys, reply budgets,
/// introductions), record signing and republishing, over a simulated network in virtual time:
/// joins, kills, partitions and heals, without sockets, root or real time. The kernel is a
/// recorder: every node's last desired WireGuard state is kept, and every apply succeeds.
struct SimulatedMesh {
    struct Node {
        var core: MeshNode
        let identity: NodeIdentity
        let address: PeerAddress
        var alive = true
        /// What the node last asked the kernel for.
        var desired: DesiredMeshState?
        /// The last membership file it wrote.
        var saved: PersistedMembership?
        var applies = 0
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
    private(set) var errors: [String] = []

    var tickInterval = Duration.milliseconds(100)

    /// Adds a node and starts it; every node but the first joins through the first one's address.
    @discardableResult
    mutating func add(role: NodeRecord.Role = .peer) throws -> Int {
        let index = nodes.count
        let identity = try NodeIdentity(
            seed: [UInt8(index & 0xFF), UInt8(index >> 8)] + Array(repeating: 5, count: 30))
        let address = PeerAddress(ip: IPAddress("10.1.\(index / 200).\(index % 200 + 1)")!, port: 7946)
        let persisted = PersistedMesh(
            meshId: mesh.text, name: "sim", secret: Data(secret.bytes).base64EncodedString(),
            options: MeshOptions(role: role == .client ? "client" : nil), bootstrap: [])
        var core = MeshNode(
            persisted: persisted, mesh: mesh, secret: secret, identity: identity, policy: .default,
            settings: MeshSettings(config: DaemonConfig(), gossipPort: address.port), rng: SplitMix64(seed: rng.next()))
        core.hostEndpoints = [Endpoint("\(address.ip):51820")!]
        if index > 0 { core.setBootstrap([nodes[0].address]) }
        nodes.append(Node(core: core, identity: identity, address: address))
        perform(nodes[index].core.start(now: now), from: index)
        return index
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
                perform(
                    nodes[index].core.tick(now: now, wallMillis: 1_800_000_000_000 + now.nanoseconds / 1_000_000),
                    from: index)
            }
            nextTick = now + tickInterval
        }
    }

    private mutating func deliver(_ item: (to: PeerAddress, from: PeerAddress, bytes: [UInt8])) {
        guard let target = nodes.firstIndex(where: { $0.address == item.to }), nodes[target].alive else { return }
        perform(nodes[target].core.receive(item.bytes, from: item.from, now: now), from: target)
    }

    private mutating func perform(_ effects: [MeshNode.Effect], from index: Int) {
        for effect in effects {
            switch effect {
            case .send(let bytes, let to):
                frames += 1
                guard let target = nodes.firstIndex(where: { $0.address == to }), !cut(index, target) else { continue }
                let link = index * 4096 + target
                let arrival = max(now.nanoseconds + (1 + rng.next() % 20) * 1_000_000, (linkClear[link] ?? 0) + 1)
                linkClear[link] = arrival
                queue.push((to, nodes[index].address, bytes), at: arrival)
            case .apply(let desired):
                let before = Set(nodes[index].desired?.device.peers.map(\.publicKey) ?? [])
                nodes[index].desired = desired
                nodes[index].applies += 1
                let added = desired.device.peers.map(\.publicKey).filter { !before.contains($0) }
                let applied = MeshNode.Applied(summary: "simulated", added: added)
                perform(nodes[index].core.applied(.success(applied), took: .zero, now: now), from: index)
            case .restartHandshake(let key):
                perform(nodes[index].core.restarted(key, .success(false), now: now), from: index)
            case .save(let membership):
                nodes[index].saved = membership
            case .log(let level, let message):
                if level >= .error { errors.append(message) }
            case .metric(.rejected(let reason)):
                refusals[reason, default: 0] += 1
            case .metric, .routesChanged:
                break
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

    /// The WireGuard peers node `index` last asked its kernel for.
    func desiredPeers(at index: Int) -> Set<WireGuardKey> {
        Set(nodes[index].desired?.device.peers.map(\.publicKey) ?? [])
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
