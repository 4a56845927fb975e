import Foundation
import GossipCRDT
import Testing

@testable import MeshCore
@testable import smegd

/// Owners' decisions across many `MeshNode`s in virtual time: evictions cut a member off
/// everywhere within seconds, a second owner can act when the founder's machine is gone, and
/// seniority and restarts behave as OwnerLedger says.
@Suite struct OwnerTests {
    func mesh(_ count: Int) throws -> SimulatedMesh { try SimulatedMesh.agreeing(count) }

    func key(_ net: SimulatedMesh, _ index: Int) -> String { net.nodes[index].identity.wireGuardPublicKey.base64 }

    /// Every node but `gone` and the dead has dropped `victim`'s WireGuard peer and evicted it.
    func cutOff(_ net: SimulatedMesh, _ victim: Int, among indices: [Int]) -> Bool {
        let id = net.nodes[victim].identity.nodeID
        return indices.allSatisfy { index in
            net.nodes[index].core.ledger?.isEvicted(id) == true
                && !net.desiredPeers(at: index).contains(net.nodes[victim].key)
        }
    }

    @Test func anEvictedMemberIsCutOffEverywhereAndTearsDown() throws {
        var net = try mesh(6)
        let rest = [0, 1, 2, 4, 5]
        #expect(rest.allSatisfy { net.desiredPeers(at: $0).contains(net.nodes[3].key) })
        let victim = key(net, 3)
        try net.act(0) { node, wall, now in try node.evict(victim, wallMillis: wall, now: now) }
        let took = net.time(until: .seconds(5), step: .milliseconds(50)) { cutOff($0, 3, among: rest) }
        #expect(took != nil && took! < .seconds(2), "cut off in \(String(describing: took))")
        let eviction = try #require(net.nodes[3].evicted, "the honest evictee learns it")
        #expect(eviction.by.contains("\(net.nodes[0].identity.nodeID)"))
        // The leader prunes it: its acknowledgements are refused, so it misses three epochs.
        let pruned = net.time(until: .seconds(8)) { net in
            rest.allSatisfy { !net.present(at: $0).contains(net.nodes[3].identity.nodeID) }
        }
        #expect(pruned != nil)
        #expect(net.agree(rest))
    }

    /// A member that missed its eviction (the owner's push is lost) keeps gossiping: its frames
    /// are refused and counted, and the first refusal tells it, so an honest one tears down.
    @Test func anEvicteeThatMissedItsEvictionIsRefusedCountedAndTold() throws {
        var net = try mesh(5)
        net.cut = { a, b in (a == 0 && b == 4) || (a == 4 && b == 0) }
        let victim = key(net, 4)
        try net.act(0) { node, wall, now in try node.evict(victim, wallMillis: wall, now: now) }
        let rest = [0, 1, 2, 3]
        #expect(net.time(until: .seconds(5), step: .milliseconds(50)) { cutOff($0, 4, among: rest) } != nil)
        #expect(net.time(until: .seconds(5)) { $0.refusals["evicted", default: 0] > 0 } != nil)
        #expect(net.time(until: .seconds(3)) { $0.nodes[4].evicted != nil } != nil, "told by a member it sent to")
        net.run(for: .seconds(5))
        #expect(rest.allSatisfy { !net.present(at: $0).contains(net.nodes[4].identity.nodeID) })
        #expect(rest.allSatisfy { !net.desiredPeers(at: $0).contains(net.nodes[4].key) })
    }

    @Test func aSecondOwnerEvictsWhenTheFoundersMachineIsGone() throws {
        var net = try mesh(5)
        let second = key(net, 1)
        try net.act(0) { node, wall, now in try node.addOwner(second, wallMillis: wall, now: now) }
        #expect(
            net.time(until: .seconds(5)) { net in (0..<5).allSatisfy { net.nodes[$0].core.ledger?.owners.count == 2 } }
                != nil)
        #expect(net.nodes[1].core.isOwner)
        #expect(net.nodes[2].core.status(now: net.now).warnings == nil, "two owners: no warning")
        net.kill(0)
        net.run(for: .seconds(5))
        let victim = key(net, 4)
        try net.act(1) { node, wall, now in try node.evict(victim, wallMillis: wall, now: now) }
        #expect(net.time(until: .seconds(5), step: .milliseconds(50)) { cutOff($0, 4, among: [1, 2, 3]) } != nil)
        #expect(net.nodes[4].evicted != nil)
    }

    @Test func seniorityDecidesBetweenOwners() throws {
        var net = try mesh(4)
        let second = key(net, 1)
        try net.act(0) { node, wall, now in try node.addOwner(second, wallMillis: wall, now: now) }
        net.run(for: .seconds(3))
        let founder = key(net, 0)
        #expect(throws: OwnerActionError.self) {
            try net.act(1) { node, wall, now in try node.evict(founder, wallMillis: wall, now: now) }
        }
        #expect(throws: OwnerActionError.self) {
            try net.act(2) { node, wall, now in try node.evict(second, wallMillis: wall, now: now) }
        }
        try net.act(0) { node, wall, now in try node.removeOwner(second, wallMillis: wall, now: now) }
        #expect(
            net.time(until: .seconds(5)) { net in (0..<4).allSatisfy { net.nodes[$0].core.ledger?.owners.count == 1 } }
                != nil)
        #expect(!net.nodes[1].core.isOwner)
        #expect(net.nodes[2].core.status(now: net.now).warnings?.count == 1, "a single owner is warned about")
        let third = key(net, 3)
        #expect(throws: OwnerActionError.self) {
            try net.act(1) { node, wall, now in try node.evict(third, wallMillis: wall, now: now) }
        }
    }

    /// A member cut off while the eviction spread gets it from the next ledger summaries.
    @Test func aMemberThatMissedAnEvictionCatchesUp() throws {
        var net = try mesh(5)
        net.cut = { a, b in a == 2 || b == 2 }
        let victim = key(net, 4)
        try net.act(0) { node, wall, now in try node.evict(victim, wallMillis: wall, now: now) }
        net.run(for: .seconds(2))
        #expect(net.nodes[2].core.ledger?.isEvicted(net.nodes[4].identity.nodeID) == false)
        net.cut = { _, _ in false }
        let caughtUp = net.time(until: .seconds(10)) { cutOff($0, 4, among: [2]) }
        #expect(caughtUp != nil)
    }

    /// The ledger is saved with the membership: after a restart the evicted member's record is
    /// refused, and an evicted node that restarts before tearing down tears down at once.
    @Test func evictionsSurviveARestart() throws {
        var net = try mesh(4)
        let victim = key(net, 3)
        try net.act(0) { node, wall, now in try node.evict(victim, wallMillis: wall, now: now) }
        net.run(for: .seconds(3))
        let saved = try #require(net.nodes[1].saved)
        #expect(saved.ledger?.count == 4, "the founder's admission, admissions required, the eviction, its rotation")
        var fresh = MeshNode(
            persisted: net.nodes[1].core.persisted, mesh: net.mesh, secret: net.secret,
            identity: net.nodes[1].identity, policy: .default, charter: net.charter,
            settings: MeshSettings(config: DaemonConfig(), gossipPort: 7946))
        var withVictim = saved
        // Even a file that still lists the evicted member's record does not bring it back.
        withVictim.records += net.nodes[3].saved.map(\.records) ?? []
        _ = fresh.restore(.value(withVictim), wallMillis: 1_800_000_100_000, now: .zero)
        #expect(fresh.ledger?.isEvicted(net.nodes[3].identity.nodeID) == true)
        #expect(!fresh.engine.store.isPresent(net.nodes[3].identity.nodeID))

        var evictee = MeshNode(
            persisted: net.nodes[3].core.persisted, mesh: net.mesh, secret: net.secret,
            identity: net.nodes[3].identity, policy: .default, charter: net.charter,
            settings: MeshSettings(config: DaemonConfig(), gossipPort: 7946))
        let effects = evictee.restore(.value(saved), wallMillis: 1_800_000_100_000, now: .zero)
        #expect(effects.contains { if case .evicted = $0 { true } else { false } })
        #expect(evictee.tick(now: .zero, wallMillis: 0).isEmpty, "an evicted node does nothing more")
    }

    @Test func onlyOwnersDecide() throws {
        var net = try mesh(3)
        let victim = key(net, 2)
        #expect(throws: OwnerActionError.self) {
            try net.act(1) { node, wall, now in try node.evict(victim, wallMillis: wall, now: now) }
        }
        var plain = SimulatedMesh()
        try plain.add()
        try plain.add()
        #expect(throws: OwnerActionError.noOwners(plain.mesh)) {
            try plain.act(0) { node, wall, now in try node.evict(victim, wallMillis: wall, now: now) }
        }
    }
}

/// Secret rotation: eviction rotates by itself, every remaining member switches, the old secret
/// stops opening frames after the overlap, and a member that was away catches up on its own.
@Suite struct RotationTests {
    func mesh(_ count: Int) throws -> SimulatedMesh { try SimulatedMesh.agreeing(count) }

    func switched(_ net: SimulatedMesh, _ indices: [Int], to generation: UInt64) -> Bool {
        let secrets = Set(indices.map { net.nodes[$0].core.secret.bytes })
        return secrets.count == 1 && indices.allSatisfy { net.nodes[$0].core.secretGeneration == generation }
    }

    @Test func evictionRotatesAndTheOldSecretStopsOpening() throws {
        var net = try mesh(5)
        let victim = net.nodes[4].identity.wireGuardPublicKey.base64
        try net.act(0) { node, wall, now in try node.evict(victim, wallMillis: wall, now: now) }
        let rest = [0, 1, 2, 3]
        #expect(net.time(until: .seconds(3)) { switched($0, rest, to: 1) } != nil)
        #expect(net.nodes[0].core.secret != net.secret, "a new secret")
        #expect(net.nodes[1].core.persisted.secretGeneration == 1, "saved with the mesh")
        let agreed = net.time(until: .seconds(10)) { $0.agree(rest) }
        #expect(agreed != nil)

        // What the evicted node could still send with the secret it holds, as a new identity.
        let outsider = try SimulatedMesh.identity(40)
        var old = FrameSession(mesh: net.mesh, secret: net.secret, identity: outsider)
        let digest = try GossipMessageCodec.encode(
            .digest(Digest(summary: StoreSummary(hash: 0, count: 0), epoch: nil)))
        let early = try old.sealIntroduction(digest)
        let source = PeerAddress(ip: IPAddress("10.9.0.9")!, port: 7946)
        _ = net.inject(early, to: 1, from: source)
        #expect(net.refusals["unauthenticated", default: 0] == 0, "within the overlap the old secret still opens")
        net.run(for: MeshNode.secretOverlap + .seconds(1))
        let late = try old.sealIntroduction(digest)
        _ = net.inject(late, to: 1, from: source)
        #expect(net.refusals["unauthenticated", default: 0] >= 1, "after the overlap it opens nothing")
    }

    @Test func aMemberAwayDuringARotationCatchesUpByItself() throws {
        var net = try mesh(4)
        net.kill(2)
        try net.act(0) { node, wall, now in try node.rotateSecret(wallMillis: wall, now: now) }
        #expect(net.time(until: .seconds(3)) { switched($0, [0, 1, 3], to: 1) } != nil)
        net.run(for: MeshNode.secretOverlap + .seconds(5))
        #expect(net.nodes[2].core.secretGeneration == 0)
        net.revive(2)
        let caughtUp = net.time(until: .seconds(20)) { switched($0, [0, 1, 2, 3], to: 1) && $0.agree([0, 1, 2, 3]) }
        #expect(caughtUp != nil, "back with the new secret and in the mesh")
    }

    /// The rotation statement reaches a member through others, but the owner's delivery does
    /// not: it asks members for the secret 2 s later, well inside the overlap.
    @Test func aMemberWhoseDeliveryIsLostAsksForIt() throws {
        var net = try mesh(5)
        net.cut = { a, b in (a == 0 && b == 2) || (a == 2 && b == 0) }
        try net.act(0) { node, wall, now in try node.rotateSecret(wallMillis: wall, now: now) }
        let took = net.time(until: .seconds(8)) { switched($0, [0, 1, 2, 3, 4], to: 1) }
        #expect(took != nil && took! < MeshNode.secretOverlap, "caught up in \(String(describing: took))")
    }

    /// A member that holds the secret asks for the new one and is refused once evicted.
    @Test func anEvictedMemberCannotAskForTheNewSecret() throws {
        var net = try mesh(4)
        let evicteeIdentity = net.nodes[3].identity
        let victim = evicteeIdentity.wireGuardPublicKey.base64
        try net.act(0) { node, wall, now in try node.evict(victim, wallMillis: wall, now: now) }
        net.run(for: .seconds(2))
        let request = JoinMessage.secretRequest(
            generation: 0,
            admission: net.nodes[3].core.persisted.admission.flatMap(Base64.decodeAnyLength), identity: evicteeIdentity,
            nonce: Array(repeating: 1, count: 16), sentAt: net.wallMillis, mesh: net.mesh)
        let replies = net.inject(request, to: 1, from: PeerAddress(ip: IPAddress("10.9.0.8")!, port: 7946))
        #expect(replies.isEmpty)
        #expect(net.refusals["secret-request-refused", default: 0] >= 1)
    }
}

extension SimulatedMesh {
    /// An owned mesh of `count` peers that agree on their membership (`legacy`: from before
    /// admissions).
    static func agreeing(
        _ count: Int, legacy: Bool = false, within limit: Duration = .seconds(10)
    ) throws -> SimulatedMesh {
        var net = SimulatedMesh(owned: true)
        net.legacy = legacy
        for _ in 0..<count { try net.add() }
        #expect(net.time(until: limit) { $0.agree(Array(0..<count)) } != nil)
        net.run(for: .seconds(2))
        return net
    }
}

/// Owner-signed settings: the newest version of the name and route policy applies everywhere,
/// widening lets a route in, narrowing takes it out of every member's WireGuard config.
@Suite struct SettingsTests {
    @Test func ownersChangeThePolicyAndEveryMemberAppliesIt() throws {
        var net = try SimulatedMesh.agreeing(4)
        let lan = IPPrefix("192.168.7.0/24")!
        var wanted = net.nodes[2].core.persisted
        wanted.options.advertiseRoutes = [lan.description]
        try net.act(2) { node, _, now in try node.update(wanted, now: now) }
        net.run(for: .seconds(2))
        let advertiser = net.nodes[2].key
        func carried(_ net: SimulatedMesh, at index: Int) -> Bool {
            let peer = net.nodes[index].desired?.device.peers.first { $0.publicKey == advertiser }
            return peer?.allowedIPs.contains { $0.description == lan.description } ?? false
        }
        #expect(!carried(net, at: 1), "the default policy refuses the route")

        try net.act(0) { node, wall, now in
            try node.changeSettings(
                name: "lab", policy: RoutePolicy(allowedPrefixes: [lan]), wallMillis: wall, now: now)
        }
        let widened = net.time(until: .seconds(5)) { net in
            (0..<4).allSatisfy { net.nodes[$0].core.name == "lab" } && [0, 1, 3].allSatisfy { carried(net, at: $0) }
        }
        #expect(widened != nil, "a member's route is let in once the owners allow it")

        try net.act(0) { node, wall, now in
            try node.changeSettings(name: "lab", policy: .default, wallMillis: wall, now: now)
        }
        let narrowed = net.time(until: .seconds(5)) { net in
            [0, 1, 3].allSatisfy { !carried(net, at: $0) }
                && (0..<4).allSatisfy { net.nodes[$0].core.policy == .default }
        }
        #expect(narrowed != nil, "and taken out everywhere when they narrow it")
        #expect(throws: OwnerActionError.self) {
            try net.act(1) { node, wall, now in
                try node.changeSettings(name: "x", policy: .default, wallMillis: wall, now: now)
            }
        }
    }
}

/// The issue's bar at its size: N = 100, every member drops the evicted node's WireGuard peer
/// and refuses it within 5 s (virtual time, so the bound is deterministic, not a timing).
@Suite struct EvictionAtScaleTests {
    @Test func aHundredMembersCutAnEvictedNodeOffWithinFiveSeconds() throws {
        var net = try SimulatedMesh.agreeing(100, within: .seconds(60))
        // Joiners learn the founder's statements from summaries, even from members they have
        // not talked with yet (whose answer does not fit the reply budget at first): 44 of the
        // 100 held none when such an answer was dropped.
        #expect((0..<100).allSatisfy { net.nodes[$0].core.ledger?.count == 2 })
        let victim = 57
        let key = net.nodes[victim].identity.wireGuardPublicKey.base64
        try net.act(0) { node, wall, now in try node.evict(key, wallMillis: wall, now: now) }
        let rest = (0..<100).filter { $0 != victim }
        let id = net.nodes[victim].identity.nodeID
        let took = net.time(until: .seconds(5), step: .milliseconds(100)) { net in
            rest.allSatisfy { index in
                net.nodes[index].core.ledger?.isEvicted(id) == true
                    && !net.desiredPeers(at: index).contains(net.nodes[victim].key)
            }
        }
        print(
            "eviction at N = 100: every member cut the node off after \(took.map { "\($0)" } ?? "more than 5 s") (virtual)"
        )
        #expect(took != nil)
        let switched = net.time(until: .seconds(5)) { net in
            Set(rest.map { net.nodes[$0].core.secret.bytes }).count == 1
                && rest.allSatisfy { net.nodes[$0].core.secretGeneration == 1 }
        }
        #expect(switched != nil, "and every member has the rotated secret")
    }
}
