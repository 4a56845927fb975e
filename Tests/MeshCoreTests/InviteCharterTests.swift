import Testing

@testable import MeshCore

/// Tokens that carry a charter: only settings the owner signed, for the mesh the id names, get
/// through; a token without one still parses, as a mesh made before owners existed.
@Suite struct InviteCharterTests {
    let endpoint = Endpoint("203.0.113.7:51821")!
    let exits = RoutePolicy(allowExitNodes: true, allowedPrefixes: [IPPrefix("0.0.0.0/0")!, IPPrefix("::/0")!])

    func charter(name: String? = "home", policy: RoutePolicy = .default) throws -> MeshCharter {
        try MeshCharter.sign(
            owner: Fixtures.identity1, salt: Array(0xA0..<0xB0), name: name, policy: policy)
    }

    /// A token body written by hand, so that plain settings and charter can disagree.
    func handMade(mesh: MeshID, settings: [UInt8], charter: [UInt8]) -> String {
        var writer = ByteWriter(capacity: 256)
        writer.writeBytes(mesh.bytes)
        writer.writeBytes(Fixtures.secret.bytes)
        writer.writeCount(1, limit: InviteToken.maxEndpoints)
        writer.writeEndpoint(endpoint)
        writer.writeBytes(settings)
        writer.writeU8(MeshSettingsCodec.charterTag)
        writer.writeLengthPrefixed(charter, limit: MeshSettingsCodec.maxCharterLength)
        let body = writer.bytes
        return InviteToken.prefix + Base32.encode(body + InviteToken.checksum(body[...]))
    }

    func settings(name: String?, policy: RoutePolicy) -> [UInt8] {
        var writer = ByteWriter()
        MeshSettingsCodec.write(name: name, policy: policy, to: &writer)
        return writer.bytes
    }

    func refusal(_ text: String) -> InviteTokenError? {
        do {
            _ = try InviteToken(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func settingsOtherThanTheSignedOnesAreRefused() throws {
        let charter = try charter()
        let honest = handMade(
            mesh: charter.mesh, settings: settings(name: "home", policy: .default), charter: charter.bytes)
        #expect(try InviteToken(honest).charter == charter)
        for (name, policy) in [("home", exits), ("evil", RoutePolicy.default), (nil, RoutePolicy.default)] {
            let forged = handMade(
                mesh: charter.mesh, settings: settings(name: name, policy: policy), charter: charter.bytes)
            let error = try #require(refusal(forged))
            #expect(error == .unsignedSettings(.settingsDiffer))
            #expect(error.description.hasPrefix("this token's settings are not signed by the mesh's owner"))
            #expect(error.description.hasSuffix("ask an owner for a new token"))
        }
        #expect(throws: InviteTokenError.unsignedSettings(.settingsDiffer)) {
            try InviteToken(
                mesh: charter.mesh, secret: Fixtures.secret, bootstrap: [endpoint], name: "home", policy: exits,
                charter: charter)
        }
    }

    @Test func aCharterForAnotherMeshIsRefused() throws {
        let charter = try charter()
        let moved = handMade(
            mesh: Fixtures.mesh1, settings: settings(name: "home", policy: .default), charter: charter.bytes)
        #expect(refusal(moved) == .unsignedSettings(.notCommitted(mesh: Fixtures.mesh1)))
        #expect(throws: InviteTokenError.unsignedSettings(.notCommitted(mesh: Fixtures.mesh1))) {
            try InviteToken(
                mesh: Fixtures.mesh1, secret: Fixtures.secret, bootstrap: [endpoint], name: "home", charter: charter)
        }
    }

    @Test func aReSignedCharterIsRefused() throws {
        let charter = try charter()
        var forged = charter.bytes
        forged[forged.count - 1] ^= 1
        let text = handMade(mesh: charter.mesh, settings: settings(name: "home", policy: .default), charter: forged)
        #expect(refusal(text) == .unsignedSettings(.badSignature))
        let garbage = handMade(mesh: charter.mesh, settings: [], charter: [1, 2, 3])
        guard case .unsignedSettings(.malformed) = refusal(garbage) else {
            Issue.record("a malformed charter was not refused as such")
            return
        }
    }

    @Test func tokensWithoutACharterStillParse() throws {
        let token = try InviteToken(
            mesh: Fixtures.mesh1, secret: Fixtures.secret, bootstrap: [endpoint], name: "home", policy: exits)
        let parsed = try InviteToken(token.text)
        #expect(parsed.charter == nil)
        #expect(parsed.policy == exits)
    }

    @Test func maximalSignedTokenFitsTheLengthLimit() throws {
        let label = String(repeating: "a", count: 63)
        let host = [label, label, label, String(repeating: "b", count: 61)].joined(separator: ".")
        let endpoints = (0..<8).map { _ in Endpoint(host: .name(host), port: 65535)! }
        let prefixes = (0..<MeshSettingsLimits.maxAllowedPrefixes).map {
            IPPrefix(address: .v6(IPv6Address(high: UInt64($0 + 1) << 48, low: 0)), length: 16)!
        }
        let policy = RoutePolicy(allowExitNodes: true, allowBridgedMeshes: true, allowedPrefixes: prefixes)
        let token = try InviteToken(
            secret: Fixtures.secret, bootstrap: endpoints, charter: try charter(name: label, policy: policy))
        #expect(token.text.count <= InviteToken.maxTextLength)
        #expect(try InviteToken(token.text) == token)
    }
}
