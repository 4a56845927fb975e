import Testing

@testable import MeshCore

/// Properties of the owner-signed charter over generated owners, salts and settings, and the
/// forgeries a holder of the mesh secret could try.
@Suite struct MeshCharterTests {
    var rng = IPAddressDifferentialTests.SplitMix(state: 11)

    mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    }

    mutating func identity() -> NodeIdentity {
        while true {
            if let identity = try? NodeIdentity(seed: bytes(32)) { return identity }
        }
    }

    mutating func name() -> String? {
        guard rng.next() % 3 != 0 else { return nil }
        let letters = Array("abcdefghijklmnopqrstuvwxyz0123456789".utf8)
        let length = Int(rng.next() % 63) + 1
        return String(
            decoding: (0..<length).map { _ in letters[Int(rng.next() % UInt64(letters.count))] }, as: UTF8.self)
    }

    mutating func policy() -> RoutePolicy {
        let count = Int(rng.next() % UInt64(MeshSettingsLimits.maxAllowedPrefixes + 1))
        let prefixes = (0..<count).map { _ -> IPPrefix in
            let address: IPAddress =
                rng.next() % 2 == 0
                ? .v4(IPv4Address(UInt32(truncatingIfNeeded: rng.next())))
                : .v6(IPv6Address(high: rng.next(), low: rng.next()))
            return IPPrefix(containing: address, length: Int(rng.next() % UInt64(address.bitCount + 1)))!
        }
        return RoutePolicy(
            allowExitNodes: rng.next() % 2 == 0, allowBridgedMeshes: rng.next() % 2 == 0, allowedPrefixes: prefixes)
    }

    mutating func ipv4Prefix() -> IPPrefix? {
        guard rng.next() % 2 == 0 else { return nil }
        let address = IPAddress.v4(IPv4Address(UInt32(truncatingIfNeeded: rng.next())))
        return IPPrefix(containing: address, length: 8 + Int(rng.next() % 21))!
    }

    mutating func charter() throws -> (MeshCharter, NodeIdentity) {
        let owner = identity()
        let charter = try MeshCharter.sign(
            owner: owner, salt: bytes(MeshID.saltByteCount), name: name(), policy: policy(), ipv4Prefix: ipv4Prefix())
        return (charter, owner)
    }

    /// The IPv4 prefix is fixed at `create`: a settings statement cannot carry one, and a
    /// charter refuses one outside /8 to /28.
    @Test mutating func theIPv4PrefixIsTheCharterItsOwn() throws {
        let owner = identity()
        let prefix = IPPrefix("100.70.0.0/16")!
        let charter = try MeshCharter.sign(
            owner: owner, salt: bytes(MeshID.saltByteCount), name: "lab", policy: .default, ipv4Prefix: prefix)
        #expect(try MeshCharter(bytes: charter.bytes, mesh: charter.mesh).ipv4Prefix == prefix)
        let withPrefix = try MeshCharter.settingsBytes(name: "lab", policy: .default, ipv4Prefix: prefix)
        #expect(SettingsUpdate(version: 1, settingsBytes: withPrefix) == nil)
        for bad in ["100.70.0.0/29", "10.0.0.0/7", "fd00::/64"] {
            #expect(throws: MeshCharterError.self) {
                try MeshCharter.sign(
                    owner: owner, salt: bytes(MeshID.saltByteCount), name: nil, policy: .default,
                    ipv4Prefix: IPPrefix(bad)!)
            }
        }
    }

    @Test mutating func signedChartersDecodeToThemselvesAndCommitTheMeshID() throws {
        for _ in 0..<100 {
            let (charter, owner) = try charter()
            #expect(charter.owner == owner.signingKey)
            #expect(charter.mesh == MeshID.committing(to: owner.signingKey, salt: charter.salt))
            #expect(try MeshCharter(bytes: charter.bytes, mesh: charter.mesh) == charter)
            let token = try InviteToken(
                secret: Fixtures.secret, bootstrap: [Endpoint("192.0.2.1:51900")!], charter: charter)
            let parsed = try InviteToken(token.text)
            #expect(parsed == token && parsed.charter == charter)
            #expect(parsed.name == charter.name && parsed.policy == charter.policy)
            #expect(parsed.charter?.ipv4Prefix == charter.ipv4Prefix)
        }
    }

    /// Every bit of the owner key and of the salt reaches the id, and distinct inputs gave
    /// distinct ids in the sample.
    @Test mutating func theMeshIDDependsOnEveryBitOfOwnerAndSalt() throws {
        var seen: Set<MeshID> = []
        for _ in 0..<20 {
            let owner = identity().signingKey
            let salt = bytes(MeshID.saltByteCount)
            let id = try #require(MeshID.committing(to: owner, salt: salt))
            #expect(seen.insert(id).inserted)
            for index in 0..<(owner.bytes.count + salt.count) {
                var key = owner.bytes
                var changed = salt
                if index < key.count { key[index] ^= 1 << (index % 8) } else { changed[index - key.count] ^= 0x80 }
                let other = MeshID.committing(to: SigningPublicKey(uncheckedBytes: key), salt: changed)
                #expect(other != id)
            }
        }
    }

    @Test mutating func everyBitFlipIsRefused() throws {
        for _ in 0..<3 {
            let (charter, _) = try charter()
            for index in charter.bytes.indices {
                for bit in 0..<8 {
                    var forged = charter.bytes
                    forged[index] ^= 1 << bit
                    #expect(throws: MeshCharterError.self) { try MeshCharter(bytes: forged, mesh: charter.mesh) }
                }
            }
            for length in 0..<charter.bytes.count {
                #expect(throws: MeshCharterError.self) {
                    try MeshCharter(bytes: charter.bytes.prefix(length), mesh: charter.mesh)
                }
            }
        }
    }

    /// A member who holds the secret but not the owner key: its own key and signature do not
    /// match the mesh id, and the owner's key does not match its signature.
    @Test mutating func aSecretHolderCannotSignForTheOwner() throws {
        for _ in 0..<20 {
            let (honest, _) = try charter()
            let attacker = identity()
            let exits = RoutePolicy(allowExitNodes: true, allowedPrefixes: [IPPrefix("8.8.8.8/32")!])
            let own = try MeshCharter.sign(owner: attacker, salt: honest.salt, name: honest.name, policy: exits)
            #expect(throws: MeshCharterError.notCommitted(mesh: honest.mesh)) {
                try MeshCharter(bytes: own.bytes, mesh: honest.mesh)
            }
            // The owner's key and salt kept, the attacker's settings and signature put in.
            var body = Array(honest.bytes.prefix(1 + 32 + MeshID.saltByteCount))
            var writer = ByteWriter()
            writer.writeLengthPrefixed(
                try MeshCharter.settingsBytes(name: nil, policy: exits), limit: MeshCharter.maxSettingsLength)
            body += writer.bytes
            let forged = body + attacker.sign(MeshCharter.signedMessage(mesh: honest.mesh, body: body[...]))
            #expect(throws: MeshCharterError.badSignature) { try MeshCharter(bytes: forged, mesh: honest.mesh) }
            #expect(throws: MeshCharterError.notCommitted(mesh: Fixtures.mesh1)) {
                try MeshCharter(bytes: honest.bytes, mesh: Fixtures.mesh1)
            }
        }
    }

    /// Builds a charter by hand with any settings bytes, properly signed.
    func handSigned(settings: [UInt8], owner: NodeIdentity = Fixtures.identity1) -> MeshCharter.Forgery {
        let salt = [UInt8](repeating: 7, count: MeshID.saltByteCount)
        let mesh = MeshID.committing(to: owner.signingKey, salt: salt)!
        var writer = ByteWriter()
        writer.writeU8(MeshCharter.format)
        writer.writeBytes(owner.signingKey.bytes)
        writer.writeBytes(salt)
        writer.writeLengthPrefixed(settings, limit: MeshCharter.maxSettingsLength)
        let body = writer.bytes
        return MeshCharter.Forgery(
            mesh: mesh, bytes: body + owner.sign(MeshCharter.signedMessage(mesh: mesh, body: body[...])))
    }

    @Test(arguments: [
        ([2, 2, 0, 0] as [UInt8], "canonical"),
        ([3, 0, 0], "cannot sign another charter"),
        ([9, 0], "unknown tag 9"),
        ([1, 2, 0x41, 0x41], "not a DNS label"),
    ])
    func signedButInvalidSettingsAreRefused(settings: [UInt8], reason: String) {
        let forgery = handSigned(settings: settings)
        #expect {
            try MeshCharter(bytes: forgery.bytes, mesh: forgery.mesh)
        } throws: { error in
            "\(error)".contains(reason)
        }
    }

    @Test func otherFormatsAndSaltsAreRefused() throws {
        var newer = handSigned(settings: []).bytes
        newer[0] = 2
        #expect(throws: MeshCharterError.unsupportedFormat(2)) { try MeshCharter(bytes: newer, mesh: Fixtures.mesh1) }
        #expect(throws: MeshCharterError.self) {
            try MeshCharter.sign(owner: Fixtures.identity1, salt: [1, 2, 3], name: nil, policy: .default)
        }
        #expect(MeshID.committing(to: Fixtures.identity1.signingKey, salt: []) == nil)
        let huge = [UInt8](repeating: 1, count: MeshCharter.maxByteCount + 1)
        #expect(throws: MeshCharterError.self) { try MeshCharter(bytes: huge, mesh: Fixtures.mesh1) }
    }
}

extension MeshCharter {
    /// Charter bytes a test signed by hand, with the mesh id they commit to.
    struct Forgery {
        var mesh: MeshID
        var bytes: [UInt8]
    }
}
