import GossipCRDT
import Testing

@testable import MeshCore

/// Checks the documented derivations against the vectors in docs/addressing.md, which were
/// computed independently (Python hashlib and `wg pubkey`).
@Suite struct AddressingTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        let meshBytes: [UInt8]
        let meshText: String
        let globalID: String
        let memberPrefix: String
        let sitePrefix: String
        let interfaceName: String
        let seed: [UInt8]
        let wireGuardPrivate: String
        let wireGuardPublic: String
        let address: String
        var testDescription: String { meshText }
    }

    static let vectors = [
        Vector(
            meshBytes: Array(0..<10), meshText: "aaaqeayeaudaocaj", globalID: "45d5b595eb",
            memberPrefix: "fd45:d5b5:95eb::/64", sitePrefix: "fd45:d5b5:95eb::/48", interfaceName: "smegaaaqeaye",
            seed: Array(0..<32), wireGuardPrivate: "OJTupJxYCu+BaTV2K+BJVZ1tFEDe3hLmoSXxhB//jm8=",
            wireGuardPublic: "RwHQhIhFH1RaQJ+1iuPlhYHKQKw/fxFGmM1x3qxzygE=",
            address: "fd45:d5b5:95eb:0:5d34:7def:a56d:b765"),
        Vector(
            meshBytes: [0xFF, 0xEE, 0xDD, 0xCC, 0xBB, 0xAA, 0x99, 0x88, 0x77, 0x66], meshText: "77xn3tf3vkmyq53g",
            globalID: "ff60ddd1a5", memberPrefix: "fdff:60dd:d1a5::/64", sitePrefix: "fdff:60dd:d1a5::/48",
            interfaceName: "smeg77xn3tf3", seed: [UInt8](repeating: 0x42, count: 32),
            wireGuardPrivate: "kOdZX8ieUv393OnGpD102/YEcCXuBGLS0XLotqKEHW4=",
            wireGuardPublic: "zE8s22ld12bzQRjrZ7mGUv7R2LxJwzCxGbv6imSYk3g=",
            address: "fdff:60dd:d1a5:0:951a:c603:c22d:14c0"),
    ]

    @Test(arguments: vectors) func documentedVector(_ vector: Vector) throws {
        let mesh = try #require(MeshID(bytes: vector.meshBytes))
        #expect(mesh.text == vector.meshText)
        #expect(MeshID(vector.meshText) == mesh)
        #expect(OverlayAddress.globalID(of: mesh).map { String(format2: $0) }.joined() == vector.globalID)
        #expect(OverlayAddress.meshPrefix(of: mesh).description == vector.memberPrefix)
        #expect(OverlayAddress.meshSitePrefix(of: mesh).description == vector.sitePrefix)
        #expect(InterfaceName.forMesh(mesh) == vector.interfaceName)
        let identity = try NodeIdentity(seed: vector.seed)
        #expect(identity.wireGuardPrivateKey.base64 == vector.wireGuardPrivate)
        #expect(identity.wireGuardPublicKey.base64 == vector.wireGuardPublic)
        #expect(identity.address(in: mesh).description == vector.address)
        #expect(OverlayAddress.meshPrefix(of: mesh).contains(.v6(identity.address(in: mesh))))
    }

    @Test func meshIDRoundTripsAndIsRandom() throws {
        let a = try MeshID.generate()
        let b = try MeshID.generate()
        #expect(a != b)
        #expect(a.text.count == 16)
        #expect(MeshID(a.text) == a)
    }

    @Test(arguments: [
        "", "aaaqeayeaudaoca", "aaaqeayeaudaocaja", "AAAQEAYEAUDAOCAJ", "aaaqeayeaudaoca1",
        "aaaqeayeaudaoca=", "aaaq-ayeaudaocaj", " aaaqeayeaudaocaj", "aaaqeayeaudaocaé",
    ])
    func meshIDRejectsOtherForms(_ text: String) {
        #expect(MeshID(text) == nil)
        #expect(throws: MeshIDError.invalid(text)) { try MeshID.parse(text) }
    }

    @Test func meshIDErrorTellsWhatIsExpected() {
        let message = MeshIDError.invalid("nope").description
        #expect(message.contains("nope"))
        #expect(message.contains("16 characters"))
    }

    @Test func interfaceNamesFitIFNAMSIZ() throws {
        for _ in 0..<20 {
            let name = InterfaceName.forMesh(try MeshID.generate())
            #expect(name.utf8.count <= 15)
            #expect(name.hasPrefix("smeg"))
        }
    }

    @Test func differentKeysGetDifferentAddressesInOneMesh() {
        let a = Fixtures.identity1.address(in: Fixtures.mesh1)
        let b = Fixtures.identity2.address(in: Fixtures.mesh1)
        #expect(a != b)
        #expect(a.high == b.high)
    }

    @Test func reservedInterfaceIDsAreUnusable() {
        #expect(!InterfaceID(value: 0).isUsable)
        #expect(!InterfaceID(value: 0x0200_5EFF_FE00_5213).isUsable)
        #expect(!InterfaceID(value: 0xFDFF_FFFF_FFFF_FF80).isUsable)
        #expect(!InterfaceID(value: 0xFDFF_FFFF_FFFF_FFFF).isUsable)
        #expect(InterfaceID(value: 0xFDFF_FFFF_FFFF_FF7F).isUsable)
        #expect(InterfaceID(value: 1).isUsable)
        #expect(InterfaceID(wireGuardKey: Fixtures.identity1.wireGuardPublicKey).isUsable)
    }
}

extension String {
    init(format2 byte: UInt8) {
        let hex = String(byte, radix: 16)
        self = hex.count == 1 ? "0" + hex : hex
    }
}
