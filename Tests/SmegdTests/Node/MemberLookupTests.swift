import Foundation
import GossipCRDT
import Testing

@testable import MeshCore
@testable import smegd

/// `MeshNode.member(named:)`, which `POST .../ping` uses: a present member by what `smegctl get`
/// prints (alias, short id, key or its start) or by either of its overlay addresses, with the
/// owners' verbs' refusals for anything else.
@Suite struct MemberLookupTests {
    /// Three members of a mesh with an IPv4 network; node 1 is called "beta".
    static func lab() throws -> SimulatedMesh {
        var net = SimulatedMesh(owned: true, ipv4Prefix: IPPrefix("100.77.0.0/16")!)
        for _ in 0..<3 { try net.add() }
        #expect(net.time(until: .seconds(10)) { $0.agree([0, 1, 2]) } != nil)
        try net.act(1) { core, _, now in
            var renamed = core.persisted
            renamed.options.alias = "beta"
            return try core.update(renamed, now: now)
        }
        let named = net.time(until: .seconds(10)) { net in
            net.nodes[0].core.detail(now: net.now).members.contains { $0.alias == "beta" && $0.ipv4 != nil }
        }
        #expect(named != nil)
        return net
    }

    @Test func everyNameOfAMemberFindsIt() throws {
        let net = try Self.lab()
        let core = net.nodes[0].core
        let beta = net.nodes[1].identity
        let view = try #require(core.detail(now: net.now).members.first { $0.alias == "beta" })
        // Every group written out, four digits each: not the form the views print.
        let address = beta.address(in: net.mesh)
        let expanded = (0..<8).map { group in
            let half = group < 4 ? address.high : address.low
            return String(format: "%04X", UInt16(truncatingIfNeeded: half >> (UInt64(3 - group % 4) * 16)))
        }
        let names = [
            "beta", beta.wireGuardPublicKey.base64, String(beta.wireGuardPublicKey.base64.prefix(6)), view.shortId,
            view.shortId.uppercased(), view.address, expanded.joined(separator: ":"), try #require(view.ipv4),
        ]
        for name in names {
            let found = try core.member(named: name)
            #expect(found.key == beta.wireGuardPublicKey, "\(name)")
            #expect(found.alias == "beta" && found.shortId == view.shortId && !found.isSelf, "\(name)")
            #expect("\(found.address)" == view.address, "\(name)")
        }
        #expect(try core.member(named: net.nodes[0].identity.wireGuardPublicKey.base64).isSelf)
        #expect(try core.member(named: net.nodes[2].identity.wireGuardPublicKey.base64).alias == nil)
    }

    @Test func anythingElseIsRefusedWithWordsThatSayWhatToDo() throws {
        let net = try Self.lab()
        let core = net.nodes[0].core
        for name in ["gamma", "fd00::1", "100.77.255.254", "ab", ""] {
            #expect(throws: OwnerActionError.unknownMember(name), "\(name)") { try core.member(named: name) }
        }
        #expect("\(OwnerActionError.unknownMember("gamma"))".contains("`smegctl get MESH` lists members"))
    }
}
