import CMnl
import CSodium
import MeshCore
import MeshLinux
import Testing

/// Proves the two system libraries are really linked and callable, not just declared.
@Suite struct FoundationLinkageTests {
    @Test func libsodiumGeneratesDistinctRandomKeys() throws {
        let a = try Sodium.randomBytes(32)
        let b = try Sodium.randomBytes(32)
        #expect(a.count == 32)
        #expect(a != b)
        #expect(Sodium.version.hasPrefix("1."))
    }

    @Test func libsodiumSignsAndVerifies() throws {
        try Sodium.ensureReady()
        var publicKey = [UInt8](repeating: 0, count: Int(crypto_sign_PUBLICKEYBYTES))
        var secretKey = [UInt8](repeating: 0, count: Int(crypto_sign_SECRETKEYBYTES))
        #expect(crypto_sign_keypair(&publicKey, &secretKey) == 0)
        let message: [UInt8] = Array("smegmesh".utf8)
        var signature = [UInt8](repeating: 0, count: Int(crypto_sign_BYTES))
        #expect(crypto_sign_detached(&signature, nil, message, UInt64(message.count), secretKey) == 0)
        #expect(crypto_sign_verify_detached(signature, message, UInt64(message.count), publicKey) == 0)
        var tampered = message
        tampered[0] ^= 1
        #expect(crypto_sign_verify_detached(signature, tampered, UInt64(tampered.count), publicKey) != 0)
    }

    @Test func rtnetlinkDumpFindsLoopback() throws {
        let socket = try NetlinkSocket(bus: NETLINK_ROUTE)
        let links = try socket.dumpLinks()
        let loopback = try #require(links.first { $0.name == "lo" })
        #expect(loopback.index == 1)
        #expect(loopback.mtu == 65536)
        #expect(loopback.kind == nil)
        #expect(Set(links.map(\.index)).count == links.count)
    }
}
