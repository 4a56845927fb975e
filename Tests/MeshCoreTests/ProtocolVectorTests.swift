import GossipCRDT
import Testing

@testable import MeshCore

/// The hex vectors published in docs/protocol.md. Whitespace in the documented hex is layout only.
@Suite struct ProtocolVectorTests {
    static let node = Fixtures.identity1.nodeID
    static let stamp = EpochStamp(leader: node, number: 42)

    func unhex(_ text: String) -> [UInt8] {
        let digits = Array(text.utf8.filter { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\n") })
        return stride(from: 0, to: digits.count, by: 2).map {
            UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)!
        }
    }

    @Test func frameKey() {
        let key = Sodium.blake2b(
            [FrameSealer.keyDomain, Array(Fixtures.mesh1.text.utf8)], outputLength: 32, key: Fixtures.secret.bytes)
        #expect(hex(key) == "ebe976aa773d972518e56945256124f88f6eaa943052398f6221ca60f1f7efce")
    }

    @Test func ack() throws {
        let expected = unhex("06 4701d084 ac02")
        let ack = Ack(epoch: EpochStamp(leader: Self.stamp.leader, number: 300))
        #expect(try GossipMessageCodec.encode(.ack(ack)) == expected)
        #expect(try GossipMessageCodec.decode(expected) == .ack(ack))
        #expect(
            ack.isOnLine(of: Self.stamp.leader) && ack.acknowledges(EpochStamp(leader: Self.stamp.leader, number: 300)))
        // The number in any longer form, or beyond 64 bits, has no place in the format.
        for bad in ["06 4701d084 ac8200", "06 4701d084 8000", "06 4701d084 ffffffffffffffffff02", "06 4701d084 ac"] {
            #expect(throws: WireError.self) { try GossipMessageCodec.decode(unhex(bad)) }
        }
        let largest = Ack(line: 1, number: .max)
        let bytes = try GossipMessageCodec.encode(.ack(largest))
        #expect(bytes.count == 1 + 4 + 10)
        #expect(try GossipMessageCodec.decode(bytes) == .ack(largest))
    }

    @Test func probe() throws {
        let expected = unhex("05 4701d08488451f545a409fb58ae3e58581ca40ac3f7f114698cd71deac73ca01 000000000000002a")
        #expect(try GossipMessageCodec.encode(.probe(Self.stamp)) == expected)
        #expect(try GossipMessageCodec.decode(expected) == .probe(Self.stamp))
    }

    @Test func digest() throws {
        let message = GossipMessage.digest(
            Digest(summary: StoreSummary(hash: 0x0102_0304_0506_0708, count: 3), epoch: Self.stamp, isReply: true))
        let expected = unhex(
            "01 0102030405060708 00000003 03 4701d08488451f545a409fb58ae3e58581ca40ac3f7f114698cd71deac73ca01 "
                + "000000000000002a 00 00")
        #expect(try GossipMessageCodec.encode(message) == expected)
        #expect(try GossipMessageCodec.decode(expected) == message)
    }

    @Test func signedRecord() throws {
        var record = NodeRecord(
            identity: Fixtures.identity1, mesh: Fixtures.mesh1, endpoints: [Endpoint("203.0.113.7:51820")!],
            wireGuardPort: 51820, gossipPort: 51821)
        record.alias = "a"
        let signed = try SignedNodeRecord.sign(record, identity: Fixtures.identity1, mesh: Fixtures.mesh1)
        let expected = unhex(
            "01 4701d08488451f545a409fb58ae3e58581ca40ac3f7f114698cd71deac73ca01"
                + "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
                + "fd45d5b595eb00005d347defa56db765 0000000000000001 00 ca6c ca6d"
                + "01 04 cb007107 ca6c 01 61 00 00 00"
                + "8fc97b9c9ac81a6d6af969e38aa7944ce3cf32176e37d1112a411b0fcfab1708"
                + "533c71de80b93f988d5cde814fa912f60ebc6dc7b1c45b70be79747e8b2b1c08")
        #expect(signed.encoded == expected)
        try SignedNodeRecord.decode(expected).verify(in: Fixtures.mesh1)
    }

    @Test func inviteToken() throws {
        let token = try InviteToken(
            mesh: Fixtures.mesh1, secret: Fixtures.secret, bootstrap: [Endpoint("203.0.113.7:51821")!])
        let expected = "smeg1-aaaqeayeaudaocajmrswmz3infvgw3dnnzxxa4lson2hk5txpb4xu634pv7h7aebqkbqcbglabyqpstnz76mxca"
        #expect(token.text == expected)
        #expect(try InviteToken(expected) == token)
        #expect(token.name == nil && token.policy == .default)
    }

    @Test func inviteTokenWithSettings() throws {
        let token = try InviteToken(
            mesh: Fixtures.mesh1, secret: Fixtures.secret, bootstrap: [Endpoint("203.0.113.7:51821")!], name: "home",
            policy: RoutePolicy(allowExitNodes: true, allowedPrefixes: [IPPrefix("192.168.1.0/24")!]))
        let expected =
            "smeg1-aaaqeayeaudaocajmrswmz3infvgw3dnnzxxa4lson2hk5txpb4xu634pv7h7aebqkbqcbglabyqpstnaecgq33nmubaqaibatakqaiadbksfsmg"
        #expect(token.text == expected)
        #expect(try InviteToken(expected) == token)
    }
}
