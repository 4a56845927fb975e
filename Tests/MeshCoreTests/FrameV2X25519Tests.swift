import Testing

@testable import MeshCore

/// The Diffie-Hellman that pair keys rest on, including its refusal of small-order points.
@Suite struct FrameV2X25519Tests {
    /// Points of order 1, 2, 4 and 8 (and non-canonical encodings of them): the X25519 result is
    /// zero for every private key, so a pair key built on them would be public.
    static let lowOrderPoints: [[UInt8]] = [
        [UInt8](repeating: 0, count: 32),
        [1] + [UInt8](repeating: 0, count: 31),
        hexBytes("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
        hexBytes("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
        hexBytes("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
        hexBytes("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    ]

    @Test func x25519AgreesBothWays() throws {
        let a = Fixtures.identity1
        let b = Fixtures.identity2
        let ab = Sodium.x25519(privateKey: a.wireGuardPrivateKey.bytes, publicKey: b.wireGuardPublicKey.bytes)
        let ba = Sodium.x25519(privateKey: b.wireGuardPrivateKey.bytes, publicKey: a.wireGuardPublicKey.bytes)
        #expect(ab != nil)
        #expect(ab == ba)
    }

    @Test func x25519AgreesForRandomKeys() throws {
        for _ in 0..<50 {
            let a = try WireGuardKey.generatePrivate()
            let b = try WireGuardKey.generatePrivate()
            let ab = Sodium.x25519(privateKey: a.bytes, publicKey: try b.publicKey().bytes)
            #expect(ab != nil)
            #expect(ab == Sodium.x25519(privateKey: b.bytes, publicKey: try a.publicKey().bytes))
        }
    }

    @Test(arguments: lowOrderPoints)
    func x25519RefusesLowOrderPoints(point: [UInt8]) {
        #expect(Sodium.x25519(privateKey: Fixtures.identity1.wireGuardPrivateKey.bytes, publicKey: point) == nil)
    }

    @Test func x25519RefusesWrongLengths() {
        #expect(Sodium.x25519(privateKey: [1, 2, 3], publicKey: Fixtures.identity1.nodeID.bytes) == nil)
        #expect(Sodium.x25519(privateKey: Fixtures.identity1.wireGuardPrivateKey.bytes, publicKey: []) == nil)
    }
}

/// Bytes from hex as docs/protocol.md writes them (spaces between fields are ignored).
func hexBytes(_ text: String) -> [UInt8] {
    let digits = Array(text.utf8.filter { $0 != UInt8(ascii: " ") })
    return stride(from: 0, to: digits.count - 1, by: 2).map {
        UInt8(String(decoding: digits[$0...$0 + 1], as: UTF8.self), radix: 16)!
    }
}
