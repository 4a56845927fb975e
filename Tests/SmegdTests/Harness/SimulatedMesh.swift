import Foundation
import GossipCRDT

@testable import MeshCore
@testable import smegd

/// Many `MeshNode`s, the daemon's per-mesh logic with real frames (pair keys, reply budgets,
/// introductions), record signing and republishing, over a simulated network in virtual time:
/// joins, kills, partitions and heals, nodes behind NATs of each kind (`SimulatedNAT`), laptops
/// that sleep, and the WireGuard sessions that all of this lets come up (`SimulatedWireGuard`),
/// without sockets, root or real time. The kernel is WireGuard's handshake and a recorder of
/// each node's last desired state.
struct SimulatedMesh {
    struct Node {
        var core: MeshNode
        let identity: NodeIdentity
        /// Where the node itself sits: a public address, or a LAN address behind `nat`.
        let lan: IPAddress
        let nat: Int?
        var wireGuard: SimulatedWireGuard
        var alive = true
        /// A sleeping laptop: no ticks, and whatever arrives is lost.
        var asleep = false
        /// Since when it sleeps, and whether its monotonic clock stops meanwhile (a suspend; a
        /// frozen process sees both clocks run on).
        var asleepSince: GossipCRDT.Instant?
        var suspended = false
        /// Only the daemon stopped (a hung smegd): its WireGuard runs on.
        var daemonStopped = false
        /// How far its monotonic clock is behind the harness's (the suspends it slept through),
        /// and how far its wall clock is ahead of everyone's (a clock step).
        var lag = Duration.zero
        var wallSkew = Duration.zero
        /// What the node last asked the kernel for.
        var desired: DesiredMeshState?
        /// The last membership file it wrote.
        var saved: PersistedMembership?
        var applies = 0
        var savedInvites: PersistedInvites?
        /// Set when an owner evicted the node (it then tears the mesh down, as smegd does).
        var evicted: MeshNode.Eviction?
        /// Answers to its `ping`s by nonce.
        var pings: [UInt64: Duration] = [:]

        /// Where its gossip answers, as another node on its LAN would reach it.
        var address: PeerAddress { PeerAddress(ip: lan, port: SimulatedMesh.gossipPort) }
        var key: WireGuardKey { WireGuardKey(bytes: identity.nodeID.bytes)! }
    }

    static let gossipPort: UInt16 = 7946
    static let wireGuardPort: UInt16 = 51820

    let mesh: MeshID
    /// With owners: node 0's identity is the founder the mesh id commits to.
    let charter: MeshCharter?
    let secret = MeshSecret(bytes: Array(repeating: 7, count: 32))!
    private(set) var nodes: [Node] = []
    private(set) var nats: [SimulatedNAT] = []
    private(set) var now = GossipCRDT.Instant.zero
    private var queue = EventQueue<Datagram>()
    private var rng = SplitMix64(seed: 11)
    /// Pairs of node indices that cannot reach each other.
    var cut: (Int, Int) -> Bool = { _, _ in false }
    /// Pairs whose WireGuard packets are lost (gossip still passes).
    var cutWireGuard: (Int, Int) -> Bool = { _, _ in false }
    private(set) var frames = 0
    /// When the last datagram on each link arrives: links are FIFO, as a real path mostly is (and
    /// a replay window of 16 is sized for that), with 1-20 ms of delay each.
    private var linkClear: [Link: UInt64] = [:]
    private var byLAN: [IPAddress: Int] = [:]

    private struct Link: Hashable {
        var from: PeerAddress
        var to: PeerAddress
    }
    private(set) var refusals: [String: Int] = [:]
    private(set) var errors: [String] = []

    var tickInterval = Duration.milliseconds(100)
    /// The daemon configuration every node added or restarted from now on runs with.
    var config = DaemonConfig()
    /// The share of datagrams lost on the way, each independently.
    var loss = 0.0
    /// Bytes each node sent, UDP and IP headers included (WireGuard's own packets at their
    /// real sizes are not what the harness sends; `SimulatedWireGuard` counts those).
    private(set) var sentBytes: [Int: Int] = [:]

    static func headerBytes(_ destination: PeerAddress) -> Int {
        if case .v4 = destination.ip { return 28 }
        return 48
    }

    /// An address outside the mesh whose datagrams are counted (a victim of reflection).
    var watched: PeerAddress?
    private(set) var watchedCount = 0
    /// Nodes whose log lines are printed, for debugging a test.
    var traced: Set<Int> = []
    /// "member pruned" lines logged, by any node.
    private(set) var prunes = 0

    private struct Datagram {
        var to: PeerAddress
        var from: PeerAddress
        var bytes: [UInt8]
        var sender: Int
    }

    /// Owned meshes from before admissions: no node carries one and the founder does not
    /// require them, as when its node still ran an older version.
    var legacy = false

    /// Addresses the founder granted to the nodes `add` admitted, as its invite book keeps them.
    private(set) var grantedIPv4 = Set<IPv4Address>()

    /// `owned`: the mesh has a charter whose founder is node 0, as `smegctl create` makes it,
    /// with `ipv4Prefix` as its IPv4 network.
    init(owned: Bool = false, ipv4Prefix: IPPrefix? = nil) {
        if owned {
            // A fixed identity and salt: signing cannot fail.
            let charter = try! MeshCharter.sign(
                owner: try! Self.identity(0), salt: Array(repeating: 9, count: MeshID.saltByteCount), name: "sim",
                policy: .default, ipv4Prefix: ipv4Prefix)
            self.charter = charter
            self.mesh = charter.mesh
        } else {
            self.charter = nil
            self.mesh = MeshID(bytes: Array(40..<50))!
        }
    }

    static func identity(_ index: Int) throws -> NodeIdentity {
        try NodeIdentity(seed: [UInt8(index & 0xFF), UInt8(index >> 8)] + Array(repeating: 5, count: 30))
    }

    /// The wall clock every node reads: virtual time from a fixed date.
    var wallMillis: UInt64 { 1_800_000_000_000 + now.nanoseconds / 1_000_000 }

    /// Node `index`'s monotonic clock: the harness's, less the suspends it slept through.
    func clock(_ index: Int) -> GossipCRDT.Instant {
        GossipCRDT.Instant(nanoseconds: now.nanoseconds.subtracting(saturating: nodes[index].lag.nanoseconds))
    }

    /// Node `index`'s wall clock, in milliseconds since 1970.
    func wall(_ index: Int) -> UInt64 { wallMillis + nodes[index].wallSkew.nanoseconds / 1_000_000 }

    /// Node `index`'s wall clock, in seconds, at the harness's zero: what WireGuard's handshake
    /// times (harness instants) are offset by.
    func wallSeconds(_ index: Int) -> Double { Double(wall(index)) / 1000 - Double(now.nanoseconds) / 1e9 }

    /// Runs an operator's decision on node `index` and carries out what it returns.
    mutating func act(
        _ index: Int, _ decision: (inout MeshNode, UInt64, GossipCRDT.Instant) throws -> [MeshNode.Effect]
    ) throws {
        let effects = try decision(&nodes[index].core, wall(index), clock(index))
        perform(effects, from: index)
    }

    /// Delivers a datagram from outside the mesh (a joiner's socket at `from`) to node `index`
    /// and returns what the node sent back to `from`.
    mutating func inject(_ bytes: [UInt8], to index: Int, from: PeerAddress) -> [[UInt8]] {
        let effects = nodes[index].core.receive(bytes, from: from, now: clock(index), wallMillis: wall(index))
        var replies: [[UInt8]] = []
        for effect in effects {
            if case .send(let reply, let to) = effect, to == from { replies.append(reply) }
        }
        perform(effects.filter { if case .send(_, let to) = $0 { to != from } else { true } }, from: index)
        return replies
    }

    /// Node `from` sends `message` to node `to` in a frame of its own, as a hostile member's
    /// daemon could (the statements in it need not be what its ledger holds).
    mutating func sendOwners(_ message: OwnerMessage, from: Int, to: Int) throws {
        let receiver = nodes[to].identity.nodeID
        guard let address = nodes[from].core.gossip.address(of: receiver) else { return }
        var budget: ReplyBudget?
        let frame = try nodes[from].core.gossip.wire.seal(message.encoded(), to: receiver, at: address, budget: &budget)
        send(frame, from: from, port: Self.gossipPort, to: address)
    }

    /// Adds a node and starts it; every node but the first joins through the first one's
    /// address. `behind`: the node sits alone behind a NAT of that behaviour.
    @discardableResult
    mutating func add(
        role: NodeRecord.Role = .peer, behind: SimulatedNAT.Behaviour? = nil, admission: OwnerStatement? = nil,
        admitted: Bool = true, secret granted: MeshSecret? = nil, bootstrap bootstrapIndex: Int = 0,
        sharingNATOf: Int? = nil
    ) throws -> Int {
        let secret = granted ?? self.secret
        let index = nodes.count
        let identity = try Self.identity(index)
        var nat: Int?
        let lan: IPAddress
        if let shared = sharingNATOf, let sharedNAT = nodes[shared].nat {
            // Another host on the same LAN behind the same router.
            nat = sharedNAT
            lan = IPAddress("192.168.\(sharedNAT + 1).\(index + 2)")!
        } else if let behind {
            nat = nats.count
            nats.append(SimulatedNAT(publicIP: IPAddress("203.0.113.\(nats.count + 1)")!, behaviour: behind))
            lan = IPAddress("192.168.\(nats.count).2")!
        } else {
            lan = IPAddress("10.1.\(index / 200).\(index % 200 + 1)")!
        }
        var persisted = PersistedMesh(
            meshId: mesh.text, name: "sim", secret: Data(secret.bytes).base64EncodedString(),
            options: MeshOptions(role: role == .client ? "client" : nil), bootstrap: [],
            charter: charter.map { Data($0.bytes).base64EncodedString() })
        if charter != nil, index > 0, admitted, !legacy {
            // What redeeming an invitation of the founder's gives: an admission it signed.
            let founder = try Self.identity(0)
            var address: IPv4Address?
            if admission == nil, let prefix = charter?.ipv4Prefix {
                address = IPv4Allocation.allocate(
                    mesh: mesh, member: identity.signingKey, prefix: prefix, taken: grantedIPv4)
                if let address { grantedIPv4.insert(address) }
            }
            let admission =
                admission
                ?? OwnerStatement.sign(
                    .admit(Admission(member: identity.signingKey, role: .member, invite: nil, ipv4: address)),
                    by: founder, at: address == nil ? 1_800_000_000_000 : wallMillis, mesh: mesh)
            persisted.admission = Data(admission.bytes).base64EncodedString()
        }
        var core = MeshNode(
            persisted: persisted, mesh: mesh, secret: secret, identity: identity, policy: .default, charter: charter,
            settings: MeshSettings(config: config, gossipPort: Self.gossipPort),
            rng: SplitMix64(seed: rng.next()))
        core.hostEndpoints = [Endpoint("\(lan):\(Self.wireGuardPort)")!]
        if legacy { core.adoptsAdmissions = false }
        if index > 0 { core.setBootstrap([nodes[bootstrapIndex].address]) }
        let node = Node(
            core: core, identity: identity, lan: lan, nat: nat,
            wireGuard: SimulatedWireGuard(key: WireGuardKey(bytes: identity.nodeID.bytes)!))
        nodes.append(node)
        byLAN[lan] = index
        byLAN[.v6(identity.address(in: mesh))] = index
        perform(nodes[index].core.start(now: clock(index), wallMillis: wall(index)), from: index)
        if index == 0, let own = nodes[0].core.ownIPv4 { grantedIPv4.insert(own) }
        return index
    }

    mutating func kill(_ index: Int) { nodes[index].alive = false }

    /// A node that was down (killed) runs again with the state it had, as a process that was
    /// stopped and continued.
    mutating func revive(_ index: Int) { nodes[index].alive = true }

    /// Restarts node `index` as smegd would: a fresh core from its stored mesh and the last
    /// membership it saved; `prepare` adjusts the core before it starts.
    mutating func restart(_ index: Int, _ prepare: (inout MeshNode) -> Void = { _ in }) throws {
        let old = nodes[index].core
        var core = MeshNode(
            persisted: old.persisted, mesh: mesh, secret: old.secret, identity: nodes[index].identity, policy: .default,
            charter: charter, settings: MeshSettings(config: config, gossipPort: Self.gossipPort),
            rng: SplitMix64(seed: rng.next()))
        core.hostEndpoints = old.hostEndpoints
        if index > 0 { core.setBootstrap([nodes[0].address]) }
        prepare(&core)
        nodes[index].core = core
        nodes[index].alive = true
        if let saved = nodes[index].saved {
            perform(nodes[index].core.restore(.value(saved), wallMillis: wall(index), now: clock(index)), from: index)
        }
        perform(nodes[index].core.start(now: clock(index), wallMillis: wall(index)), from: index)
    }

    /// Puts a laptop to sleep or wakes it: while asleep it runs nothing and hears nothing.
    /// `suspended`: a machine's suspend, during which its monotonic clock stops while the wall
    /// clock runs on (without it, every process of the laptop frozen: both clocks run on).
    mutating func setAsleep(_ index: Int, _ asleep: Bool, suspended: Bool = false) {
        if asleep {
            nodes[index].asleepSince = now
            nodes[index].suspended = suspended
        } else if let since = nodes[index].asleepSince, nodes[index].suspended {
            nodes[index].lag += now.since(since)
        }
        if !asleep { nodes[index].asleepSince = nil }
        nodes[index].asleep = asleep
    }

    /// Stops or continues only node `index`'s daemon: its WireGuard keeps running.
    mutating func setDaemonStopped(_ index: Int, _ stopped: Bool) { nodes[index].daemonStopped = stopped }

    /// Steps node `index`'s wall clock (NTP, or an operator).
    mutating func stepWallClock(_ index: Int, by duration: Duration) { nodes[index].wallSkew += duration }

    /// The host of node `index` changed its network (the link monitor said so), with the host
    /// addresses it now has.
    mutating func networkChanged(_ index: Int, what: String = "simulated") {
        let endpoints = nodes[index].core.hostEndpoints
        perform(
            nodes[index].core.networkChanged(
                hostEndpoints: endpoints, what: what, now: clock(index), wallMillis: wall(index)), from: index)
    }

    /// Moves node `index`, a client alone behind its NAT, behind a new NAT (another network):
    /// new public address, no mappings. Its LAN address stays (another home router, same
    /// numbering); only where it appears from changes.
    mutating func moveBehindNewNAT(_ index: Int) {
        guard let nat = nodes[index].nat else { return }
        let behaviour = nats[nat].behaviour
        nats[nat] = SimulatedNAT(publicIP: IPAddress("203.0.113.\(100 + nats.count + moves)")!, behaviour: behaviour)
        moves += 1
    }
    private var moves = 0

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
            for index in nodes.indices where nodes[index].alive && !nodes[index].asleep {
                if !nodes[index].daemonStopped {
                    perform(nodes[index].core.tick(now: clock(index), wallMillis: wall(index)), from: index)
                }
                send(nodes[index].wireGuard.tick(now: now), from: index)
            }
            nextTick = now + tickInterval
        }
    }

    // MARK: The network

    /// Sends from node `index`: through its NAT if it has one.
    private mutating func send(_ bytes: [UInt8], from index: Int, port: UInt16, to destination: PeerAddress) {
        frames += 1
        // WireGuard's packets at their real sizes; an overlay datagram inside WireGuard's data
        // message (32 bytes more) and an outer IPv4 header.
        let size: Int
        if OverlayAddress.meshPrefix(of: mesh).contains(destination.ip) {
            size = bytes.count + Int(SimulatedWireGuard.keepaliveBytes) + 48 + 28
        } else if port == Self.wireGuardPort, let (kind, _) = SimulatedWireGuard.decode(bytes) {
            size = Int(SimulatedWireGuard.size(of: kind)) + Self.headerBytes(destination)
        } else {
            size = bytes.count + Self.headerBytes(destination)
        }
        sentBytes[index, default: 0] += size
        if loss > 0 && Double(rng.next() % 1_000_000) < loss * 1_000_000 { return }
        if OverlayAddress.meshPrefix(of: mesh).contains(destination.ip) {
            return sendOverlay(bytes, from: index, port: port, to: destination)
        }
        if destination == watched { watchedCount += 1 }
        var source = PeerAddress(ip: nodes[index].lan, port: port)
        // Hosts on one LAN reach each other without their router translating anything.
        let sameLAN = byLAN[destination.ip].map { nodes[$0].nat != nil && nodes[$0].nat == nodes[index].nat } ?? false
        if let nat = nodes[index].nat, !sameLAN {
            source = nats[nat].outbound(from: source, to: destination, now: now)
        }
        let link = Link(from: source, to: destination)
        let arrival = max(now.nanoseconds + (1 + rng.next() % 20) * 1_000_000, (linkClear[link] ?? 0) + 1)
        linkClear[link] = arrival
        queue.push(Datagram(to: destination, from: source, bytes: bytes, sender: index), at: arrival)
    }

    /// A datagram to a member's overlay address goes the way the kernels' WireGuard sends it:
    /// hop by hop to the peer whose AllowedIPs hold the destination most specifically, over
    /// sessions that are up on both ends, and only where the receiving end's AllowedIPs route
    /// the source back to the hop it came from (cryptokey routing). Relays forward; a pair whose
    /// WireGuard packets are cut (`cutWireGuard`) carries nothing.
    private mutating func sendOverlay(_ bytes: [UInt8], from index: Int, port: UInt16, to destination: PeerAddress) {
        let source = IPAddress.v6(nodes[index].identity.address(in: mesh))
        var at = index
        for _ in 0..<4 {
            guard let hop = nodes[at].wireGuard.route(to: destination.ip),
                let next = nodes.firstIndex(where: { $0.key == hop }),
                nodes[at].wireGuard.isUp(hop), nodes[next].wireGuard.isUp(nodes[at].key)
            else { return }
            nodes[at].wireGuard.count(sent: bytes.count, to: hop, now: now)
            guard nodes[next].alive, !nodes[next].asleep, !cut(at, next), !cutWireGuard(at, next),
                nodes[next].wireGuard.accepts(source, from: nodes[at].key)
            else { return }
            nodes[next].wireGuard.count(received: bytes.count, from: nodes[at].key)
            if byLAN[destination.ip] == next {
                let arrival = now.nanoseconds + (1 + rng.next() % 20) * 1_000_000
                queue.push(
                    Datagram(to: destination, from: PeerAddress(ip: source, port: port), bytes: bytes, sender: at),
                    at: arrival)
                return
            }
            at = next
        }
    }

    private mutating func send(_ packets: [SimulatedWireGuard.Packet], from index: Int) {
        for packet in packets { send(packet.bytes, from: index, port: Self.wireGuardPort, to: packet.to) }
    }

    private mutating func deliver(_ datagram: Datagram) {
        var destination = datagram.to
        if let nat = nats.firstIndex(where: { $0.publicIP == destination.ip }) {
            guard let inside = nats[nat].inbound(to: destination.port, from: datagram.from, now: now) else { return }
            destination = inside
        }
        guard let target = byLAN[destination.ip], nodes[target].alive,
            !nodes[target].asleep, !cut(datagram.sender, target)
        else { return }
        // A LAN address behind a NAT is reachable only through the NAT's public address.
        if let nat = nodes[target].nat, datagram.to.ip == nodes[target].lan, nodes[datagram.sender].nat != nat {
            return
        }
        switch destination.port {
        case Self.gossipPort:
            guard !nodes[target].daemonStopped else { return }
            perform(
                nodes[target].core.receive(
                    datagram.bytes, from: datagram.from, now: clock(target), wallMillis: wall(target)),
                from: target)
        case Self.wireGuardPort:
            guard !cutWireGuard(datagram.sender, target) else { return }
            send(nodes[target].wireGuard.receive(datagram.bytes, from: datagram.from, now: now), from: target)
        default:
            break
        }
    }

    private mutating func perform(_ effects: [MeshNode.Effect], from index: Int) {
        for effect in effects {
            switch effect {
            case .send(let bytes, let to):
                send(bytes, from: index, port: Self.gossipPort, to: to)
            case .apply(let desired):
                nodes[index].desired = desired
                nodes[index].applies += 1
                let (added, packets) = nodes[index].wireGuard.apply(desired, now: now)
                send(packets, from: index)
                let applied = MeshNode.Applied(summary: "simulated", added: added)
                perform(nodes[index].core.applied(.success(applied), took: .zero, now: clock(index)), from: index)
            case .observeKernel:
                let observed = nodes[index].wireGuard.observed(wallBase: wallSeconds(index))
                perform(nodes[index].core.observed(observed, now: clock(index)), from: index)
            case .restartHandshake(let key), .renewHandshake(let key, after: _):
                var since: Double?
                if case .renewHandshake(_, let after) = effect { since = after }
                let (restarted, packets) = nodes[index].wireGuard.restart(
                    key, unlessAfter: since, wallBase: wallSeconds(index), now: now)
                send(packets, from: index)
                perform(nodes[index].core.restarted(key, .success(restarted), now: clock(index)), from: index)
            case .save(let membership):
                nodes[index].saved = membership
            case .saveInvites(let invites):
                nodes[index].savedInvites = invites
            case .saveMesh:
                break  // the core keeps its stored mesh; `restart` takes it from there
            case .log(let level, let message):
                if traced.contains(index) {
                    print("[\(Double(now.nanoseconds) / 1e9)] node \(index) \(level): \(message)")
                }
                if level >= .error { errors.append(message) }
                if message.hasPrefix("member pruned") { prunes += 1 }
            case .metric(.rejected(let reason)):
                refusals[reason, default: 0] += 1
            case .evicted(let eviction):
                nodes[index].evicted = eviction
                nodes[index].alive = false
            case .pingAnswered(let nonce, let rtt):
                nodes[index].pings[nonce] = rtt
            case .metric, .routesChanged:
                break
            }
        }
    }

    /// Node `from` pings node `to` over WireGuard (a session of its own with it, or a handshake
    /// first); `lastEcho` says when the answer came.
    mutating func ping(_ from: Int, _ to: Int) {
        guard nodes[from].alive, !nodes[from].asleep else { return }
        send(nodes[from].wireGuard.ping(nodes[to].key, now: now), from: from)
    }

    func lastEcho(_ from: Int, _ to: Int) -> GossipCRDT.Instant? {
        nodes[from].wireGuard.lastEcho(from: nodes[to].key)
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

    /// Whether nodes `a` and `b` both hold a completed handshake with each other.
    func sessionUp(_ a: Int, _ b: Int) -> Bool {
        nodes[a].wireGuard.isUp(nodes[b].key) && nodes[b].wireGuard.isUp(nodes[a].key)
    }

    /// The other node each client's kernel holds a session with (its attachment).
    func attachment(of client: Int) -> Int? {
        guard let key = nodes[client].desired?.device.peers.first?.publicKey else { return nil }
        return nodes.firstIndex { $0.key == key }
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
