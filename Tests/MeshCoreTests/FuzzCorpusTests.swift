import Foundation
import GossipCRDT
import Testing

@testable import MeshCore

/// Writes the fuzzers' seed corpora (valid encodings of every kind) into Fuzz/<Target>/corpus
/// when `SMEG_WRITE_CORPUS=<repository root>` is set: `SMEG_WRITE_CORPUS=$PWD swift test
/// --filter FuzzCorpus`. Seeds made from the real encoders let the fuzzers start from deep,
/// valid inputs instead of guessing magic bytes.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["SMEG_WRITE_CORPUS"] != nil))
struct FuzzCorpusTests {
    let root = ProcessInfo.processInfo.environment["SMEG_WRITE_CORPUS"] ?? ""

    func write(_ target: String, _ name: String, _ bytes: [UInt8]) throws {
        let directory = "\(root)/Fuzz/\(target)/corpus"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: "\(directory)/\(name)"))
    }

    @Test func writeSeeds() throws {
        var record = Fixtures.record()
        try write("FuzzRecord", "full", Fixtures.signed(record).encoded)
        record.routes = []
        record.services = [:]
        record.role = .client
        record.endpoints = []
        try write("FuzzRecord", "minimal", Fixtures.signed(record).encoded)

        let sealer = FrameSealer(mesh: Fixtures.mesh1, secret: Fixtures.secret)
        for (index, message) in GossipMessageCodecTests.messages.enumerated() {
            let bytes = try GossipMessageCodec.encode(message)
            if bytes.count < 4096 {
                try write("FuzzMessage", "message-\(index)", bytes)
                try write(
                    "FuzzFrame", "frame-\(index)", try sealer.seal(sender: Fixtures.identity1.nodeID, message: bytes))
            }
        }

        let endpoints = [
            Endpoint("203.0.113.7:51821")!, Endpoint("[2001:db8::7]:51821")!, Endpoint("vpn.example.com:1")!,
        ]
        let token = try InviteToken(mesh: Fixtures.mesh1, secret: Fixtures.secret, bootstrap: endpoints)
        try write("FuzzToken", "three-endpoints", Array(token.text.utf8))
        let single = try InviteToken(mesh: Fixtures.mesh2, secret: Fixtures.secret, bootstrap: [endpoints[0]])
        try write("FuzzToken", "one-endpoint", Array(single.text.utf8))

        let texts = [
            "2001:db8::1", "::ffff:192.0.2.1", "fe80::1:2:3:4", "10.1.2.3", "fd45:d5b5:95eb::/64", "10.0.0.0/8",
            "[2001:db8::7]:51820", "203.0.113.7:51820", "vpn.example.com:51820", "aaaqeayeaudaocaj",
        ]
        for (index, text) in texts.enumerated() { try write("FuzzAddress", "text-\(index)", Array(text.utf8)) }
    }
}
