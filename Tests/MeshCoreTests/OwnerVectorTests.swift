import Testing

@testable import MeshCore

/// The mesh id, charter and token vectors published in docs/addressing.md and docs/protocol.md
/// (computed independently with Python's hashlib and cryptography).
@Suite struct OwnerVectorTests {
    func unhex(_ text: String) -> [UInt8] {
        let digits = Array(text.utf8.filter { $0 != UInt8(ascii: " ") })
        return stride(from: 0, to: digits.count, by: 2).map {
            UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)!
        }
    }

    let salt1: [UInt8] = Array(0xA0..<0xB0)
    let salt2 = [UInt8](repeating: 0, count: 16)
    let homePolicy = RoutePolicy(allowExitNodes: true, allowedPrefixes: [IPPrefix("192.168.1.0/24")!])

    @Test func meshIDs() throws {
        let first = try #require(MeshID.committing(to: Fixtures.identity1.signingKey, salt: salt1))
        #expect(first.bytes == unhex("bdde48ed3061b3a685da"))
        #expect(first.text == "xxper3jqmgz2nbo2")
        #expect(InterfaceName.forMesh(first) == "smegxxper3jq")
        #expect("\(OverlayAddress.meshPrefix(of: first))" == "fdc7:50fd:192b::/64")
        #expect(
            Fixtures.identity2.signingKey.bytes
                == unhex("2152f8d19b791d24453242e15f2eab6cb7cffa7b6a5ed30097960e069881db12"))
        let second = try #require(MeshID.committing(to: Fixtures.identity2.signingKey, salt: salt2))
        #expect(second.bytes == unhex("70e7ab3563bc62ad0313"))
        #expect(second.text == "odt2wnldxrrk2ayt")
        #expect(InterfaceName.forMesh(second) == "smegodt2wnld")
        #expect("\(OverlayAddress.meshPrefix(of: second))" == "fdff:deda:3fea::/64")
    }

    @Test func charterWithSettings() throws {
        let charter = try MeshCharter.sign(owner: Fixtures.identity1, salt: salt1, name: "home", policy: homePolicy)
        let expected = unhex(
            "01 03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8 a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
                + " 0010 0104686f6d650208010104c0a8010018"
                + " 8485b5fd89e2e47b3993a51424db065178b47f2f34a2f6ae83014121abdd2ffa"
                + "5b6114f37b3e2e45a2b0869abcf28406e2af94a3ebcbcbcfe423df3d7cdb220a")
        #expect(charter.bytes == expected)
        #expect(try MeshCharter(bytes: expected, mesh: MeshID("xxper3jqmgz2nbo2")!) == charter)
        let token = try InviteToken(
            secret: Fixtures.secret, bootstrap: [Endpoint("203.0.113.7:51821")!], charter: charter)
        let text =
            "smeg1-xxper3jqmgz2nbo2mrswmz3infvgw3dnnzxxa4lson2hk5txpb4xu634pv7h7aebqkbqcbglabyqpstnaecgq33nmubaqaibatakq"
            + "aiadabqbaybaoqqpp7tzyil4hlq3umoos6atft6jvrqtosq2xy53sdgiesvgg4kbincuoskljvhvcu2vk5mvwxk6aaqaecgq33nmubaqaib"
            + "atakqaiadccilnp5rhroi6zzsosrijg3azixrnd7f42kf5voqmaucinl3ux7uw3bctzxwproiwrlbbu2xtziibxcv6kkh26lzph6ii67hv6"
            + "nwiqkipk446q"
        #expect(token.text == text)
        #expect(try InviteToken(text) == token)
    }

    @Test func charterWithoutSettings() throws {
        let charter = try MeshCharter.sign(owner: Fixtures.identity2, salt: salt2, name: nil, policy: .default)
        let expected = unhex(
            "01 2152f8d19b791d24453242e15f2eab6cb7cffa7b6a5ed30097960e069881db12 00000000000000000000000000000000 0000"
                + " 64f317f9bfe0467a57e6aa92fdade8699fcc304a501a5da6cd83be1228968d51"
                + "202ecf5cd2c46bd42f7d3b1ec76d538291cbf1c3b6711c5af0486d04ab36c809")
        #expect(charter.bytes == expected)
        #expect(charter.mesh.text == "odt2wnldxrrk2ayt")
    }
}
