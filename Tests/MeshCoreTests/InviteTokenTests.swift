import Testing

@testable import MeshCore

@Suite struct InviteTokenTests {
    let endpoints = [
        Endpoint("203.0.113.7:51821")!, Endpoint("[2001:db8::7]:51821")!, Endpoint("vpn.example.com:51821")!,
    ]

    func token() throws -> InviteToken {
        try InviteToken(mesh: Fixtures.mesh1, secret: Fixtures.secret, bootstrap: endpoints)
    }

    @Test func roundTrips() throws {
        let text = try token().text
        #expect(text.hasPrefix("smeg1-"))
        let parsed = try InviteToken(text)
        #expect(parsed == (try token()))
        #expect(parsed.text == text)
    }

    @Test func toleratesWhitespaceAndUppercase() throws {
        let text = try token().text
        #expect(try InviteToken("  \(text)\n") == token())
        #expect(try InviteToken(text.uppercased()) == token())
    }

    @Test func everySingleCharacterTypoIsCaught() throws {
        let text = Array(try token().text.utf8)
        var checksumErrors = 0
        for index in InviteToken.prefix.utf8.count..<text.count {
            var typo = text
            typo[index] = typo[index] == UInt8(ascii: "a") ? UInt8(ascii: "b") : UInt8(ascii: "a")
            let error = try #require(throws: InviteTokenError.self) {
                try InviteToken(String(decoding: typo, as: UTF8.self))
            }
            if error == .checksumMismatch { checksumErrors += 1 }
            #expect(error.description.hasPrefix("invalid token"))
        }
        #expect(checksumErrors > 0)
    }

    @Test func checksumMismatchIsNamed() throws {
        var text = Array(try token().text.utf8)
        text[20] = text[20] == UInt8(ascii: "q") ? UInt8(ascii: "r") : UInt8(ascii: "q")
        #expect(throws: InviteTokenError.checksumMismatch) { try InviteToken(String(decoding: text, as: UTF8.self)) }
        #expect(InviteTokenError.checksumMismatch.description.contains("invalid token (checksum mismatch"))
    }

    @Test func truncationIsCaught() throws {
        let text = try token().text
        for length in 0..<text.count {
            #expect(throws: InviteTokenError.self) { try InviteToken(String(text.prefix(length))) }
        }
    }

    @Test func badCharacterIsLocated() throws {
        let text = try token().text
        let broken = text.prefix(10) + "0" + text.dropFirst(11)
        #expect(throws: InviteTokenError.badCharacter("0", position: 11)) { try InviteToken(String(broken)) }
        let accented = text.prefix(12) + "é" + text.dropFirst(13)
        #expect(throws: InviteTokenError.badCharacter("é", position: 13)) { try InviteToken(String(accented)) }
    }

    @Test func otherPrefixesAndSizes() throws {
        #expect(throws: InviteTokenError.missingPrefix) { try InviteToken("hello") }
        #expect(throws: InviteTokenError.unsupportedVersion) { try InviteToken("smeg2-aaaa") }
        #expect(throws: InviteTokenError.tooLong(InviteToken.maxTextLength + 1)) {
            try InviteToken("smeg1-" + String(repeating: "a", count: InviteToken.maxTextLength - 5))
        }
        #expect(throws: InviteTokenError.endpointCount(0)) {
            try InviteToken(mesh: Fixtures.mesh1, secret: Fixtures.secret, bootstrap: [])
        }
        let nine = (1...9).map { Endpoint("10.0.0.\($0):1")! }
        #expect(throws: InviteTokenError.endpointCount(9)) {
            try InviteToken(mesh: Fixtures.mesh1, secret: Fixtures.secret, bootstrap: nine)
        }
    }

    @Test func maximalTokenFitsTheLengthLimit() throws {
        let label = String(repeating: "a", count: 63)
        let name = [label, label, label, String(repeating: "b", count: 61)].joined(separator: ".")
        let endpoints = (0..<8).map { _ in Endpoint(host: .name(name), port: 65535)! }
        let text = try InviteToken(mesh: Fixtures.mesh1, secret: Fixtures.secret, bootstrap: endpoints).text
        #expect(text.count <= InviteToken.maxTextLength)
        #expect(try InviteToken(text).bootstrap == endpoints)
        // With the longest name and the largest policy too.
        let prefixes = (0..<MeshSettingsLimits.maxAllowedPrefixes).map {
            IPPrefix(address: .v6(IPv6Address(high: UInt64($0 + 1) << 48, low: 0)), length: 16)!
        }
        let full = try InviteToken(
            mesh: Fixtures.mesh1, secret: Fixtures.secret, bootstrap: endpoints, name: label,
            policy: RoutePolicy(allowExitNodes: true, allowBridgedMeshes: true, allowedPrefixes: prefixes))
        #expect(full.text.count <= InviteToken.maxTextLength)
        #expect(try InviteToken(full.text) == full)
    }

    @Test func nameAndRoutePolicyTravelWithTheToken() throws {
        let policy = RoutePolicy(
            allowExitNodes: true, allowBridgedMeshes: true,
            allowedPrefixes: [IPPrefix("192.168.1.0/24")!, IPPrefix("fd00:1234::/32")!])
        let token = try InviteToken(
            mesh: Fixtures.mesh1, secret: Fixtures.secret, bootstrap: endpoints, name: "home", policy: policy)
        let parsed = try InviteToken(token.text)
        #expect(parsed.name == "home")
        #expect(parsed.policy == policy)
        #expect(parsed == token)
        // Each setting on its own.
        for (name, policy) in [("lab", RoutePolicy.default), (nil, RoutePolicy(allowExitNodes: true))] {
            let single = try InviteToken(
                mesh: Fixtures.mesh1, secret: Fixtures.secret, bootstrap: endpoints, name: name, policy: policy)
            #expect(try InviteToken(single.text) == single)
        }
    }

    /// Builds a token body by hand, so settings the encoder would never write can be tried.
    private func handMade(settings: [UInt8]) -> String {
        var writer = ByteWriter(capacity: 128)
        writer.writeBytes(Fixtures.mesh1.bytes)
        writer.writeBytes(Fixtures.secret.bytes)
        writer.writeCount(1, limit: InviteToken.maxEndpoints)
        writer.writeEndpoint(endpoints[0])
        writer.writeBytes(settings)
        let body = writer.bytes
        return InviteToken.prefix + Base32.encode(body + InviteToken.checksum(body[...]))
    }

    @Test(arguments: [
        ([9, 0] as [UInt8], "unknown tag 9"),
        ([2, 2, 0, 0, 1, 1, 0x61], "out of order"),
        ([1, 1, 0x61, 1, 1, 0x62], "repeated or out of order"),
        ([1, 2, 0x41, 0x41], "not a DNS label"),
        ([2, 2, 0x80, 0], "unknown flags"),
        ([2, 3, 0, 1, 6], "allowed prefix"),
        ([2, 9, 0, 13, 6, 0, 0, 0, 0, 0, 0], "allowed prefixes"),
        ([1, 5, 0x61], "name"),
    ])
    func malformedSettingsAreRefused(settings: [UInt8], reason: String) {
        #expect {
            _ = try InviteToken(handMade(settings: settings))
        } throws: { error in
            "\(error)".contains(reason) && "\(error)".hasPrefix("invalid token")
        }
    }

    @Test func descriptionHidesTheSecret() throws {
        let description = try token().description
        #expect(description.contains(Fixtures.mesh1.text))
        #expect(!description.contains(Base32.encode(Fixtures.secret.bytes)))
    }

    @Test func base32IsStrict() {
        #expect(Base32.encode([]) == "")
        #expect(Base32.encode(Array("foobar".utf8)) == "mzxw6ytboi")
        #expect(Base32.decode("mzxw6ytboi") == Array("foobar".utf8))
        #expect(Base32.decode("mzxw6ytboj") == nil)  // non-zero padding bits
        #expect(Base32.decode("m") == nil)
        #expect(Base32.decode("mzx") == nil)
        #expect(Base32.decode("mz1") == nil)
    }
}
