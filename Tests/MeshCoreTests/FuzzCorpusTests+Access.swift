import Foundation
import Testing

@testable import MeshCore

/// Seeds of FuzzAccess: canonical policy encodings, made by the real encoder, and policy texts
/// as operators write them (docs/acl.md's examples), so the fuzzer starts deep in both the
/// codec and the parser.
extension FuzzCorpusTests {
    static let accessTexts: [(String, String)] = [
        (
            "text-laptops",
            """
            # laptops reach the servers' ssh and web ports, not each other
            allow tag:laptop -> tag:server tcp/22,443 icmp
            allow tag:server -> tag:server
            allow * -> tag:dns udp/53

            """
        ),
        ("text-guest", "allow tag:guest -> media1 tcp/8096  # the media server only\r\n"),
        ("text-ranges", "allow web1->* tcp/8000-8100,9000,1-3 udp icmp\nallow tag:a -> tag:b\n"),
        ("text-errors", "permit * -> *\nallow tag:X -> * tcp/0,\nallow * -> * icmp/8\n"),
    ]

    static func accessSeeds() throws -> [Seed] {
        var seeds = [Seed(target: "FuzzAccess", name: "policy-example", bytes: AccessPolicyCodecTests.example.bytes)]
        for (name, text) in accessTexts {
            seeds.append(Seed(target: "FuzzAccess", name: name, bytes: Array(text.utf8)))
            if let policy = try? AccessPolicyText.parse(text).resolve({ _ in Fixtures.identity2.nodeID }) {
                seeds.append(Seed(target: "FuzzAccess", name: "policy-\(name.dropFirst(5))", bytes: policy.bytes))
            }
        }
        return seeds
    }

    /// FuzzAccess decodes bytes as a policy and reads them as text: a seed must be one or the
    /// other (the error seed is a text whose errors name its lines).
    static func checkAccessDecodes(_ name: String, _ bytes: [UInt8]) {
        if let policy = try? AccessPolicy(decoding: bytes) {
            #expect(policy.bytes == bytes, "\(name) is not canonical")
            return
        }
        let text = String(decoding: bytes, as: UTF8.self)
        do {
            _ = try AccessPolicyText.parse(text)
            #expect(!name.hasSuffix("errors"), "\(name) should not parse")
        } catch {
            #expect(name.hasSuffix("errors") && error.errors.count == 3, "\(name): \(error)")
        }
    }
}
