import GossipCRDT
import Testing

@testable import MeshCore
@testable import smegd

/// The sessions and filters each `MeshNode` asks its kernel for under an access policy, in
/// virtual time: a pair the policy keeps apart gets no WireGuard peer on either end, a relay's
/// and a receiver's rules follow the policy, and a change takes effect everywhere within 5 s.
@Suite struct AccessSessionTests {
    func key(_ net: SimulatedMesh, _ index: Int) -> WireGuardKey { net.nodes[index].key }

    func tag(_ net: inout SimulatedMesh, _ tags: [Int: String]) throws {
        let names = tags.mapValues { _ in "" }.keys.sorted().map {
            (net.nodes[$0].identity.wireGuardPublicKey.base64, tags[$0]!)
        }
        try net.act(0) { node, wall, now in
            var effects: [MeshNode.Effect] = []
            for (member, tag) in names {
                effects += try node.changeTags(
                    of: member, adding: [AccessTag(tag)!], removing: [],
                    wallMillis: wall, now: now)
            }
            return effects
        }
    }

    @Test func peersThePolicyKeepsApartConfigureNoSessionWithEachOther() throws {
        var net = try SimulatedMesh.agreeing(5)
        #expect((0..<5).allSatisfy { net.desiredPeers(at: $0).count == 4 }, "a full mesh without a policy")
        #expect((0..<5).allSatisfy { net.nodes[$0].desired?.filter.access == nil })
        try tag(&net, [1: "laptop", 2: "laptop", 3: "server"])
        try net.act(0) { node, wall, now in
            try node.setAccessPolicy("allow tag:laptop -> tag:server tcp/22", wallMillis: wall, now: now)
        }
        let took = net.time(until: .seconds(5), step: .milliseconds(50)) { net in
            net.desiredPeers(at: 1) == [key(net, 3)] && net.desiredPeers(at: 2) == [key(net, 3)]
                && net.desiredPeers(at: 3) == [key(net, 1), key(net, 2)] && net.desiredPeers(at: 0).isEmpty
                && net.desiredPeers(at: 4).isEmpty
        }
        #expect(took != nil, "sessions follow the policy within 5 s: \(String(describing: took))")
        let apart = net.nodes[4].core.pathView(of: net.nodes[0].identity.wireGuardPublicKey, now: net.now)
        #expect(apart.kind == "denied" && apart.reason?.contains("access policy") == true)
        #expect(net.nodes[1].core.pathView(of: net.nodes[3].identity.wireGuardPublicKey, now: net.now).kind == "direct")
        // The server's filter lets the laptops open tcp/22 and nothing else; a laptop opens
        // nothing to the other.
        let server = try #require(net.nodes[3].desired?.filter.access)
        let laptop = IPAddress.v6(net.nodes[1].identity.address(in: net.mesh))
        #expect(server.opened[laptop] == AccessTraffic(tcp: PortSet([22...22])))
        #expect(server.opened.count == 2 && server.answered.isEmpty)
        let other = try #require(net.nodes[2].desired?.filter.access)
        #expect(other.opened[laptop] == nil && other.answered[laptop] == nil)

        // Opening everything again brings the full mesh back, still with (open) rules.
        try net.act(0) { node, wall, now in try node.setAccessPolicy("allow * -> *", wallMillis: wall, now: now) }
        let back = net.time(until: .seconds(5), step: .milliseconds(50)) { net in
            (0..<5).allSatisfy { net.desiredPeers(at: $0).count == 4 }
        }
        #expect(back != nil, "within 5 s: \(String(describing: back))")
        #expect(net.nodes[4].desired?.filter.access?.opened.values.allSatisfy(\.anyProtocol) == true)
    }

    @Test func aClientsPeerRelaysOnlyWhatThePolicyAllows() throws {
        var net = try SimulatedMesh.agreeing(2)
        let a = try net.add(role: .client, behind: DirectPathHarnessTests.cone)
        let b = try net.add(role: .client, behind: DirectPathHarnessTests.cone)
        #expect(net.time(until: .seconds(20)) { $0.agree(Array(0..<4)) } != nil)
        try tag(&net, [a: "laptop", b: "printer"])
        try net.act(0) { node, wall, now in
            try node.setAccessPolicy("allow tag:laptop -> tag:printer tcp/631", wallMillis: wall, now: now)
        }
        net.run(for: .seconds(5))
        let addressA = IPAddress.v6(net.nodes[a].identity.address(in: net.mesh))
        let addressB = IPAddress.v6(net.nodes[b].identity.address(in: net.mesh))
        // The clients' peers, whether or not the pair has punched a direct path meanwhile.
        let topology = net.nodes[a].core.topology
        let peers = [a, b].compactMap { topology.attachments[net.nodes[$0].identity.wireGuardPublicKey] }
        #expect(peers.count == 2)
        for relay in Set(peers.compactMap { key in net.nodes.firstIndex { $0.identity.wireGuardPublicKey == key } }) {
            let filter = try #require(net.nodes[relay].desired?.filter.access)
            #expect(filter.relayed[AccessFilter.Pair(addressA, addressB)] == AccessTraffic(tcp: PortSet([631...631])))
            #expect(filter.relayed[AccessFilter.Pair(addressB, addressA)] == nil, "the printer opens nothing")
            let printing = AccessFilter.Packet(
                source: addressA, destination: addressB, protocolNumber: 6, port: 631, isReply: false)
            #expect(filter.admits(printing, on: .relay))
            var answer = printing
            answer.isReply = true
            #expect(filter.admits(answer, on: .relay))
            var ssh = printing
            ssh.port = 22
            #expect(!filter.admits(ssh, on: .relay))
        }
        let printer = try #require(net.nodes[b].desired?.filter.access)
        #expect(printer.opened[addressA] == AccessTraffic(tcp: PortSet([631...631])))
    }
}
