import GossipCRDT
import Testing

@testable import MeshCore

/// The text format operators edit: what each form means, the errors (line, column, what was
/// expected), the limits, and that printed policies read back to themselves.
@Suite struct AccessPolicyTextTests {
    static let web = NodeID(1, 2, 3, 4)
    static let db = NodeID(5, 6, 7, 8)

    /// Names as a mesh would resolve them: two aliases and full keys.
    static func resolve(_ name: String) throws -> NodeID {
        switch name {
        case "web1": return web
        case "db1": return db
        default:
            guard let key = WireGuardPublicKey(base64: name) else { throw OwnerActionError.unknownMember(name) }
            return key.nodeID
        }
    }

    func policy(_ text: String) throws -> AccessPolicy {
        try AccessPolicyText.parse(text).resolve(Self.resolve)
    }

    func errors(_ text: String) -> [AccessPolicyTextError] {
        do {
            _ = try policy(text)
            return []
        } catch {
            return (error as? AccessPolicyTextErrors)?.errors ?? []
        }
    }

    func tag(_ name: String) -> AccessTag { AccessTag(name)! }

    @Test func theFormsMeanWhatDocsAclSays() throws {
        let parsed = try policy(
            """
            # laptops reach the servers' ssh and web ports, and ping them
            allow tag:laptop -> tag:server tcp/22,443 icmp
            allow * -> tag:dns udp/53   # everyone resolves names
            allow web1->db1 tcp/5432
            allow db1 -> * tcp/8000-8100,8080 udp
              allow tag:admin -> *
            """)
        let rules = parsed.rules
        #expect(rules.count == 5)
        #expect(rules[0].from == .tag(tag("laptop")) && rules[0].to == .tag(tag("server")))
        #expect(rules[0].traffic == AccessTraffic(icmp: true, tcp: PortSet([22...22, 443...443])))
        #expect(rules[1].from == .anyMember && rules[1].traffic == AccessTraffic(udp: PortSet([53...53])))
        #expect(rules[2].from == .member(Self.web) && rules[2].to == .member(Self.db))
        #expect(rules[3].traffic == AccessTraffic(tcp: PortSet([8000...8100]), udp: .all), "8080 is inside 8000-8100")
        #expect(rules[4].traffic == .everything)
        #expect(!parsed.isDefault)
    }

    @Test(arguments: [
        ("permit * -> *", 1, 1, "expected 'allow' at the start of a rule, found 'permit'"),
        ("allow", 1, 6, "expected a source ('*', 'tag:NAME' or a member: alias, short id or key), found the end"),
        ("allow * tag:x", 1, 9, "expected '->' after the source, found 'tag:x'"),
        ("allow * ->", 1, 11, "expected a destination after '->'"),
        ("allow * -> ->", 1, 12, "found '->'"),
        ("allow tag:Laptop -> *", 1, 11, "'Laptop' is not a tag"),
        ("allow * -> tag:", 1, 16, "'' is not a tag"),
        ("allow * -> tag:-x", 1, 16, "'-x' is not a tag"),
        ("allow * -> web@1", 1, 12, "found 'web@1'"),
        ("allow * -> * sctp", 1, 14, "expected a protocol (tcp, udp or icmp"),
        ("allow * -> * icmp/8", 1, 18, "icmp has no ports"),
        ("allow * -> * tcp/", 1, 18, "expected a port after '/'"),
        ("allow * -> * tcp/22,,80", 1, 21, "expected a port after ','"),
        ("allow * -> * tcp/0", 1, 18, "expected a port from 1 to 65535, found '0'"),
        ("allow * -> * tcp/65536", 1, 18, "expected a port from 1 to 65535, found '65536'"),
        ("allow * -> * udp/22,99999999999999999999", 1, 21, "found '99999999999999999999'"),
        ("allow * -> * tcp/80-", 1, 21, "expected a port from 1 to 65535, found ''"),
        ("allow * -> * tcp/443-22", 1, 18, "the port range 443-22 is backwards; write 22-443"),
        ("allow * -> * tcp/22-x", 1, 21, "found 'x'"),
        ("allow * -> nobody", 1, 12, "no member 'nobody' is known here"),
        ("", 1, 1, "the file holds no rule"),
        ("# only a comment\n\n", 1, 1, "the file holds no rule"),
    ])
    func errorsNameTheLineTheColumnAndWhatWasExpected(text: String, line: Int, column: Int, message: String) {
        let found = errors(text)
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.line == line && found.first?.column == column, "\(found)")
        #expect(found.first?.message.contains(message) == true, "\(found)")
    }

    @Test func everyBadLineIsReportedWithItsOwnNumber() {
        let found = errors(
            """
            allow * -> *
            allow * => *
            # fine
            allow tag:ok -> tag:Bad
            allow web1 -> ghost tcp/22
            """)
        #expect(found.map(\.line) == [2, 4])
        // Unknown members are found once the syntax is right, on the owner's node.
        #expect(errors("allow web1 -> ghost\nallow ghost2 -> *").map(\.line) == [1, 2])
        #expect(errors("allow web1 -> ghost").first?.column == 15)
        let many = String(repeating: "nope\n", count: 40)
        #expect(errors(many).count == AccessPolicyText.maxErrors)
    }

    @Test func limitsAreErrorsAtTheLineThatCrossesThem() {
        let rules = String(repeating: "allow * -> *\n", count: AccessPolicy.maxRules)
        #expect(errors(rules).isEmpty)
        let over = errors(rules + "allow * -> tag:x\n")
        #expect(over.first?.line == AccessPolicy.maxRules + 1 && over.first?.message.contains("at most 256") == true)

        let ports = (1...33).map { "\($0 * 2)" }.joined(separator: ",")
        let tooMany = errors("allow * -> * tcp/\(ports)")
        #expect(tooMany.first?.message.contains("33 port ranges") == true, "\(tooMany)")
        // Neighbouring ports merge into one range, so they do not count against the limit.
        #expect(errors("allow * -> * tcp/\((1...100).map { "\($0)" }.joined(separator: ","))").isEmpty)

        let key = WireGuardPublicKey(nodeID: Self.web).base64
        let big = (0..<200).map { _ in "allow \(key) -> \(key) tcp/1,3,5,7,9,11,13,15,17,19,21,23,25,27,29,31" }
        let size = errors(big.joined(separator: "\n"))
        #expect(size.first?.message.contains("more than the 16384") == true, "\(size)")

        let huge = String(repeating: "#", count: AccessPolicyText.maxBytes + 1)
        #expect(errors(huge).first?.message.contains("more than the 49152 allowed") == true)
    }

    @Test func crlfTabsAndCommentsAreBlanks() throws {
        let parsed = try policy("allow\t*\t->\ttag:a\ttcp/22\r\n#x\r\nallow * -> * # allow nothing -> here\r\n")
        #expect(parsed.rules.count == 2)
        #expect(parsed.rules[0].traffic == AccessTraffic(tcp: PortSet([22...22])))
    }

    @Test func aPrintedPolicyReadsBackToItself() throws {
        let parsed = try policy(
            """
            allow tag:laptop -> tag:server tcp/22,443,8000-8100 udp/53 icmp
            allow web1 -> db1 tcp/5432
            allow db1 -> * udp
            allow * -> *
            """)
        let names: (NodeID) -> String? = { $0 == Self.web ? "web1" : nil }
        let text = AccessPolicyText.render(parsed, names: names)
        #expect(text.contains("allow tag:laptop -> tag:server tcp/22,443,8000-8100 udp/53 icmp\n"))
        #expect(text.contains("# \(WireGuardPublicKey(nodeID: Self.web).base64.prefix(8))… is web1"))
        #expect(try policy(text) == parsed)
    }
}
