import Foundation
import GossipCRDT
import Testing

@testable import MeshCore
@testable import MeshLinux
@testable import smegd

/// The per-mesh core on its own: what it asks the kernel, the disk and the log for, given
/// kernel results and time. No socket, root or real clock.
@Suite struct MeshNodeTests {
    let mesh = MeshID(bytes: Array(40..<50))!
    let secret = MeshSecret(bytes: Array(repeating: 7, count: 32))!

    func node(
        _ options: MeshOptions = MeshOptions(), seed: UInt8 = 1, policy: RoutePolicy = .default
    ) throws
        -> MeshNode
    {
        let identity = try NodeIdentity(seed: [seed] + Array(repeating: 5, count: 31))
        let persisted = PersistedMesh(
            meshId: mesh.text, name: "unit", secret: Data(secret.bytes).base64EncodedString(), options: options,
            bootstrap: [])
        var node = MeshNode(
            persisted: persisted, mesh: mesh, secret: secret, identity: identity, policy: policy,
            settings: MeshSettings(config: DaemonConfig(), gossipPort: 7946))
        node.hostEndpoints = [Endpoint("10.9.0.\(seed):51820")!]
        return node
    }

    func key(_ byte: UInt8) -> WireGuardKey { WireGuardKey(bytes: Array(repeating: byte, count: 32))! }

    func seconds(_ value: Double) -> GossipCRDT.Instant { GossipCRDT.Instant(nanoseconds: UInt64(value * 1e9)) }

    func restarts(_ effects: [MeshNode.Effect]) -> [WireGuardKey] {
        effects.compactMap { if case .restartHandshake(let key) = $0 { key } else { nil } }
    }

    func applies(_ effects: [MeshNode.Effect]) -> Int {
        effects.filter { if case .apply = $0 { true } else { false } }.count
    }

    @Test func startingPublishesTheRecordAndAsksForTheKernelState() throws {
        var node = try node()
        let effects = node.start(now: .zero, wallMillis: 0)
        #expect(applies(effects) == 1)
        let mine = node.records[node.identity.nodeID]
        #expect(mine?.endpoints == [Endpoint("10.9.0.1:51820")!], "a peer publishes the host's addresses")
        #expect(mine?.wireGuardPort == MeshOptions.defaultListenPort)
        guard case .apply(let desired) = effects.last else { Issue.record("no apply"); return }
        #expect(desired.device.peers.isEmpty)
        #expect(desired.device.listenPort == MeshOptions.defaultListenPort)
    }

    @Test func aClientPublishesNoEndpointAndAnOperatorEndpointWins() throws {
        var client = try node(MeshOptions(role: "client"))
        _ = client.start(now: .zero, wallMillis: 0)
        #expect(client.records[client.identity.nodeID]?.endpoints == [])
        var peer = try node(MeshOptions(endpoint: "198.51.100.7:4000"), seed: 2)
        _ = peer.start(now: .zero, wallMillis: 0)
        #expect(peer.records[peer.identity.nodeID]?.endpoints == [Endpoint("198.51.100.7:4000")!])
    }

    /// A client restarts each new session's first handshake every second, five times at most,
    /// and stops as soon as the device reports a completed handshake (it asks the device each
    /// time a restart is due).
    @Test func aClientRetriesFirstHandshakesEverySecondFiveTimesAtMost() throws {
        var node = try node(MeshOptions(role: "client"))
        _ = node.start(now: .zero, wallMillis: 0)
        let added = MeshNode.Applied(summary: "", added: [key(1), key(2)])
        _ = node.applied(.success(added), took: .zero, now: seconds(0))
        #expect(restarts(node.tick(now: seconds(0.5), wallMillis: 0)).isEmpty)
        var restarted: [WireGuardKey: Int] = [:]
        var observations = 0
        for step in 6...100 {
            let now = seconds(Double(step) * 0.1)
            var effects = node.tick(now: now, wallMillis: 0)
            if effects.contains(where: { if case .observeKernel = $0 { true } else { false } }) {
                observations += 1
                // Key 2's handshake completes after its second restart.
                let done = (restarted[key(2)] ?? 0) >= 2
                effects = node.observed(
                    [key(1): .init(lastHandshake: nil), key(2): .init(lastHandshake: done ? 1_800_000_000 : nil)],
                    now: now)
            }
            for key in restarts(effects) {
                restarted[key, default: 0] += 1
                _ = node.restarted(key, .success(true), now: now)
            }
        }
        #expect(restarted[key(1)] == 5)
        #expect(restarted[key(2)] == 2)
        #expect(observations == 5, "the device is read once per due round, not every tick")
        #expect(node.handshakeRetries.isEmpty)
    }

    /// A peer the device no longer has needs no restart; a device that cannot be read gets the
    /// restarts anyway (the kernel side refuses a peer that has a session).
    @Test func retriesFollowWhatTheDeviceReports() throws {
        var node = try node(MeshOptions(role: "client"))
        _ = node.start(now: .zero, wallMillis: 0)
        _ = node.applied(.success(MeshNode.Applied(summary: "", added: [key(1), key(2)])), took: .zero, now: .zero)
        #expect(restarts(node.observed([key(1): .init(lastHandshake: nil)], now: seconds(1))) == [key(1)])
        #expect(node.handshakeRetries[key(2)] == nil, "gone from the device")
        struct Unreadable: Error {}
        #expect(restarts(node.observationFailed(Unreadable(), now: seconds(1))) == [key(1)])
    }

    @Test func aPeerLeavesHandshakesToWireGuard() throws {
        var node = try node()
        _ = node.start(now: .zero, wallMillis: 0)
        _ = node.applied(.success(MeshNode.Applied(summary: "", added: [key(1)])), took: .zero, now: .zero)
        for step in 1...30 { #expect(restarts(node.tick(now: seconds(Double(step) * 0.1), wallMillis: 0)).isEmpty) }
    }

    /// A peer that proves it holds our record has added us: the retry comes forward to just
    /// after its reconcile, never later than it was.
    @Test func aPeerHoldingOurViewBringsTheRetryForward() throws {
        var node = try node(MeshOptions(role: "client"))
        _ = node.start(now: .zero, wallMillis: 0)
        let peerID = NodeID(bytes: key(9).bytes)!
        _ = node.applied(.success(MeshNode.Applied(summary: "", added: [key(9)])), took: .zero, now: .zero)
        node.peerHasOurView(peerID, now: seconds(0.1))
        #expect(node.handshakeRetries[key(9)]?.due == seconds(0.1) + .milliseconds(300))
        node.peerHasOurView(peerID, now: seconds(0.9))
        #expect(node.handshakeRetries[key(9)]?.due == seconds(0.4), "never later")
    }

    struct KernelDown: Error, CustomStringConvertible {
        var description: String { "netlink: operation not permitted" }
    }

    @Test func aFailedApplyIsShownAndRetriedAfterTwoSeconds() throws {
        var node = try node()
        _ = node.start(now: .zero, wallMillis: 0)
        let effects = node.applied(.failure(KernelDown()), took: .zero, now: seconds(1))
        #expect(
            effects.contains { if case .log(.error, let text) = $0 { text.contains("not permitted") } else { false } })
        #expect(node.status(now: seconds(1)).lastError?.contains("reconcile") == true)
        #expect(applies(node.tick(now: seconds(2.9), wallMillis: 0)) == 0)
        #expect(applies(node.tick(now: seconds(3.0), wallMillis: 0)) == 1)
        _ = node.applied(.success(MeshNode.Applied(summary: "", added: [])), took: .zero, now: seconds(3))
        #expect(node.status(now: seconds(3)).lastError == nil)
    }

    /// An apply that left part undone (an exit without `nft`) shows it as the mesh's error,
    /// logs it once while it lasts, tries again every ten seconds, and clears when fixed.
    @Test func aPartialApplyIsShownLoggedOnceAndRetried() throws {
        var node = try node()
        _ = node.start(now: .zero, wallMillis: 0)
        let problem = "cannot install the exit's packet filter: the nft program is missing"
        let errors = { (effects: [MeshNode.Effect]) in
            effects.filter { if case .log(.error, let text) = $0 { text == problem } else { false } }.count
        }
        let partial = MeshNode.Applied(summary: "", added: [], problem: problem)
        #expect(errors(node.applied(.success(partial), took: .zero, now: seconds(1))) == 1)
        #expect(node.status(now: seconds(1)).lastError == problem)
        #expect(applies(node.tick(now: seconds(10.9), wallMillis: 0)) == 0)
        #expect(applies(node.tick(now: seconds(11), wallMillis: 0)) == 1)
        #expect(errors(node.applied(.success(partial), took: .zero, now: seconds(11))) == 0, "said once")
        #expect(applies(node.tick(now: seconds(21), wallMillis: 0)) == 1)
        _ = node.applied(.success(MeshNode.Applied(summary: "", added: [])), took: .zero, now: seconds(21))
        #expect(node.status(now: seconds(21)).lastError == nil)
        #expect(applies(node.tick(now: seconds(40), wallMillis: 0)) == 0, "no more retries")
    }

    @Test func theMembershipIsSavedOnceAfterAPublish() throws {
        var node = try node()
        _ = node.start(now: .zero, wallMillis: 0)
        let saves = { (effects: [MeshNode.Effect]) in effects.filter { if case .save = $0 { true } else { false } } }
        #expect(saves(node.tick(now: seconds(0.1), wallMillis: 1_000)).count == 1)
        #expect(saves(node.tick(now: seconds(0.2), wallMillis: 1_100)).isEmpty)
    }

    /// What one node saved restores into a fresh core with the same identity: the members come
    /// back verified, and a corrupt file is logged, not fatal.
    @Test func aSavedMembershipRestores() throws {
        var net = SimulatedMesh()
        for _ in 0..<3 { try net.add() }
        _ = net.time(until: .seconds(5)) { $0.agree([0, 1, 2]) }
        net.run(for: .seconds(2))
        let saved = try #require(net.nodes[1].saved)
        let identity = net.nodes[1].identity
        let persisted = net.nodes[1].core.persisted
        var fresh = MeshNode(
            persisted: persisted, mesh: net.mesh, secret: net.secret, identity: identity, policy: .default,
            settings: MeshSettings(config: DaemonConfig(), gossipPort: 7946))
        let savedAt = try #require(saved.epochs?.savedAt)
        let effects = fresh.restore(.value(saved), wallMillis: savedAt + 5_000, now: .zero)
        #expect(fresh.engine.store.presentCount == 3)
        #expect(
            effects.contains {
                if case .log(.info, let text) = $0 { text.contains("restored 3 members") } else { false }
            })
        #expect(fresh.gossip.wire.learned.count == 2, "where the members were last heard from")
        let corrupt = fresh.restore(.corrupt(problem: "members.json: not JSON"), wallMillis: 0, now: .zero)
        #expect(corrupt.count == 1)
    }

    @Test func onlyABridgeTakesBridgedRoutesAndOnlyThoseThePolicyAllows() throws {
        let site = OverlayAddress.meshPrefix(of: MeshID(bytes: Array(60..<70))!)
        let other = MeshID(bytes: Array(60..<70))!
        let routes = [
            AdvertisedRoute(prefix: site, path: [other]),
            AdvertisedRoute(prefix: .ipv6Default, path: [other]),
        ]
        var plain = try node()
        _ = plain.start(now: .zero, wallMillis: 0)
        #expect(plain.setBridgedRoutes(routes, now: .zero).isEmpty)
        var bridge = try node(MeshOptions(bridge: true), seed: 3, policy: RoutePolicy(allowBridgedMeshes: true))
        _ = bridge.start(now: .zero, wallMillis: 0)
        _ = bridge.setBridgedRoutes(routes, now: seconds(1))
        #expect(bridge.records[bridge.identity.nodeID]?.routes.map(\.prefix) == [site], "no exit without the policy")
        #expect(bridge.setBridgedRoutes(routes, now: seconds(2)).isEmpty, "unchanged: no republish")
    }

    @Test func anUpdateThatCannotBeSignedKeepsTheOldOptions() throws {
        var node = try node()
        _ = node.start(now: .zero, wallMillis: 0)
        var updated = node.persisted
        updated.options.alias = "db"
        _ = try node.update(updated, now: seconds(1))
        #expect(node.records[node.identity.nodeID]?.alias == "db")
        var tooMany = node.persisted
        for index in 0..<(RecordLimits.maxServices + 1) { tooMany.services["s\(index)"] = "\(index)" }
        #expect(throws: (any Error).self) { try node.update(tooMany, now: seconds(2)) }
        #expect(node.persisted.services.isEmpty)
        #expect(node.options.alias == "db")
    }

    /// The operator's endpoint comes first, at the gossip port; then the host's own addresses,
    /// without repeats, as many as a token holds.
    @Test func anInviteNamesTheOperatorsEndpointFirstAtTheGossipPort() throws {
        let node = try node(MeshOptions(endpoint: "198.51.100.7:51820"))
        let local = [Endpoint("198.51.100.7:7946")!] + (1...20).map { Endpoint("10.0.0.\($0):7946")! }
        let token = try node.inviteToken(gossipPort: 7946, local: local)
        #expect(token.bootstrap.first == Endpoint("198.51.100.7:7946")!)
        #expect(Set(token.bootstrap).count == token.bootstrap.count)
        #expect(token.bootstrap.count == InviteToken.maxEndpoints)
        #expect(token.secret == secret && token.mesh == mesh)
        let alone = try self.node().inviteToken(gossipPort: 7946, local: [])
        #expect(alone.bootstrap == HostAddresses.loopbackEndpoint(port: 7946))
    }
}
