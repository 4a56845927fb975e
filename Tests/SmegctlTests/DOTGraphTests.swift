import Foundation
import MeshCore
import Testing

@testable import smegctl

func member(
    _ id: String, alias: String?, role: String = "peer", leader: Bool = false, via: String? = nil,
    services: [String: String] = [:]
) -> MemberView {
    MemberView(
        id: id, shortId: String(id.prefix(8)), alias: alias, description: nil, address: "fd00::\(id.count)",
        endpoints: role == "peer" ? ["192.0.2.1:51820"] : [], role: role, lastSeenSeconds: 1.5, isLeader: leader,
        isSelf: false, services: services, routes: [RouteView(prefix: "fd11::/64", path: ["m2"])], version: 3, via: via)
}

func summary(_ id: String, name: String? = nil) -> MeshSummary {
    MeshSummary(
        meshId: id, name: name, interface: "smeg\(id)", address: "fd00::1", prefix: "fd00::/64", role: "peer",
        members: 3, leader: "aaaaaaaa", isLeader: false)
}

@Suite struct DOTGraphTests {
    static let adversarial = [
        "\"; evil [shape=star]; \"", "back\\slash\\", "new\nline", "}{--", "<html>&amp;", "ünïcødé ☃",
        "tab\there", "\u{7}bell\u{0}", "-- -> ;", "\\\"", "",
    ]

    private var sample: GraphResponse {
        let members = Self.adversarial.enumerated().map { index, alias in
            member("id\(String(format: "%02d", index))xxxxxxxx", alias: alias, leader: index == 0)
        }
        let client = member("zzclient000", alias: "laptop", role: "client", via: "id00xxxx")
        let bridge = member("id01xxxxxxxx", alias: "bridge")
        return GraphResponse(meshes: [
            MeshDetail(mesh: summary("b", name: "\"quoted\" name"), members: members + [client]),
            MeshDetail(mesh: summary("a"), members: [bridge, member("other000000", alias: nil)]),
        ])
    }

    @Test func isDeterministicWhateverTheInputOrder() {
        var shuffled = sample
        shuffled.meshes.reverse()
        shuffled.meshes[0].members.reverse()
        #expect(DOTGraph.render(sample) == DOTGraph.render(shuffled))
    }

    @Test func adversarialLabelsStillParseWithGraphviz() throws {
        let dot = DOTGraph.render(sample)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/dot")
        process.arguments = ["-Tsvg"]
        let input = Pipe()
        let output = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        input.fileHandleForWriting.write(Data(dot.utf8))
        try input.fileHandleForWriting.close()
        let svg = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "dot failed: \(stderr)")
        #expect(stderr.isEmpty, "dot warned: \(stderr)")
        #expect(svg.contains("<svg"))
        // No alias could add a node of its own: exactly the generated nodes exist (the members,
        // the client, mesh a's two members, and one node per mesh for the route every member
        // advertises).
        #expect(svg.components(separatedBy: "class=\"node\"").count - 1 == Self.adversarial.count + 1 + 2 + 2)
        #expect(svg.contains("bridge"))
        // The injection attempt is drawn as literal label text, not interpreted.
        #expect(svg.contains("&quot;; evil [shape=star]; &quot;"))
    }

    @Test func quotesEveryStringSafely() {
        #expect(DOTGraph.quote("a\"b") == #""a\"b""#)
        #expect(DOTGraph.quote("a\\") == #""a\\""#)
        #expect(DOTGraph.quote("x\ny") == #""x\ny""#)
        #expect(DOTGraph.quote("\u{1}\u{7f}ok") == #""ok""#)
    }

    @Test func drawsLeaderClientsAndBridges() {
        let dot = DOTGraph.render(sample)
        #expect(dot.contains("★"))
        #expect(dot.contains("style=dotted"))
        #expect(dot.contains("label=\"bridge\""))
        #expect(dot.components(separatedBy: "subgraph \"cluster_").count - 1 == 2)
    }

    /// Two meshes joined by a node that is in both (with a different key in each): the bridge's
    /// routes from the other mesh become an edge into that mesh's cluster, this node's two
    /// members are joined, and other prefixes hang off their advertisers.
    @Test func bridgedRoutesPointAtTheOtherMeshAndPrefixesHangOffAdvertisers() throws {
        var bridgeInA = member("bridgeA00000", alias: "bridge")
        bridgeInA.routes = [RouteView(prefix: "fdbb::/64", path: ["meshbbbbbbbbbbbb"])]
        bridgeInA.isSelf = true
        var bridgeInB = member("bridgeB00000", alias: "bridge")
        bridgeInB.routes = [RouteView(prefix: "fdaa::/64", path: ["meshaaaaaaaaaaaa"])]
        bridgeInB.isSelf = true
        var exit = member("exit00000000", alias: "exit")
        exit.routes = [RouteView(prefix: "::/0", path: [])]
        var plain = member("plain0000000", alias: "plain")
        plain.routes = []
        let graph = GraphResponse(meshes: [
            MeshDetail(mesh: summary("meshbbbbbbbbbbbb", name: "beta"), members: [bridgeInB, plain]),
            MeshDetail(mesh: summary("meshaaaaaaaaaaaa", name: "alpha"), members: [bridgeInA, exit]),
        ])
        let dot = DOTGraph.render(graph)
        // alpha is cluster_0 (sorted by id): its bridge points into cluster_1 (beta) and back.
        #expect(
            dot.contains(
                "m0_0 -- m1_0 [lhead=\"cluster_1\", style=dashed, color=\"#c0392b\", label=\"bridge to beta\"];"))
        #expect(
            dot.contains(
                "m1_0 -- m0_0 [lhead=\"cluster_0\", style=dashed, color=\"#c0392b\", label=\"bridge to alpha\"];"))
        #expect(dot.contains("label=\"this node\""))
        #expect(dot.contains("r0_0 [label=\"::/0\", shape=note"))
        #expect(dot.contains("m0_1 -- r0_0 [style=dashed];"))
        #expect(!dot.contains("fdbb::/64"), "a route into a mesh in the graph is drawn as the bridge edge only")
    }
}

@Suite struct TextOutputTests {
    @Test func membersTableSortsAndMarksTheLeader() {
        let table = TextTable.members([
            member("bbbbbbbbbbbb", alias: "web"), member("aaaaaaaaaaaa", alias: "db", leader: true),
            member("cccccccccccc", alias: nil, role: "client", via: "aaaaaaaa"),
        ])
        let lines = table.split(separator: "\n").map(String.init)
        #expect(lines[0].hasPrefix("   ALIAS"))
        #expect(lines[1].hasPrefix("*  db"))
        #expect(lines[2].hasPrefix("   web"))
        #expect(lines[3].contains("via aaaaaaaa"))
        #expect(lines.last == "* leader")
    }

    @Test(arguments: [(5.0, "5s"), (65, "1m5s"), (3_700, "1h1m"), (90_000, "1d1h")])
    func durationsAreShort(seconds: Double, text: String) {
        #expect(TextTable.duration(seconds) == text)
    }

    @Test func queryFiltersCombine() {
        let web = member("a1", alias: "web-1", services: ["http": "80"])
        let db = member("a2", alias: "db", role: "client", services: ["pg": "5432"])
        #expect(MemberFilter(alias: "web*").matches(web))
        #expect(!MemberFilter(alias: "web").matches(web))
        #expect(MemberFilter(role: "client", service: "pg").matches(db))
        #expect(!MemberFilter(role: "client", service: "pg=1").matches(db))
        #expect(MemberFilter(service: "http=80").matches(web))
        #expect(!MemberFilter(service: "http").matches(db))
    }
}

@Suite struct GlobalArgumentTests {
    @Test(arguments: [
        (["--socket", "/s", "list", "--json"], ["list", "--json", "--socket", "/s"]),
        (["--socket=/s", "get", "m"], ["get", "m", "--socket=/s"]),
        (["--socket", "/s", "service", "set", "m", "a", "b"], ["service", "set", "m", "a", "b", "--socket", "/s"]),
        (["--socket", "/s", "alias", "m", "--", "-x"], ["alias", "m", "--socket", "/s", "--", "-x"]),
        (["list", "--socket", "/s"], ["list", "--socket", "/s"]),
        (["--socket", "/s"], ["--socket", "/s"]),
        (["--help"], ["--help"]),
    ])
    func socketBeforeTheVerbMovesToTheEnd(input: [String], expected: [String]) {
        #expect(GlobalArguments.hoistingSocket(input) == expected)
    }
}
