import GossipCRDT
import Testing

@testable import MeshCore

@Suite struct NodeRecordTests {
    @Test func signedRecordRoundTripsAndVerifies() throws {
        let signed = Fixtures.signed(Fixtures.record())
        let decoded = try SignedNodeRecord.decode(signed.encoded)
        #expect(decoded == signed)
        #expect(decoded.record == Fixtures.record())
        try decoded.verify(in: Fixtures.mesh1)
    }

    @Test func encodingIsCanonicalWhateverTheDictionaryOrder() {
        var a = Fixtures.record()
        a.services = ["b": "2", "a": "1", "c": "3"]
        var b = Fixtures.record()
        b.services = ["c": "3", "a": "1", "b": "2"]
        #expect(a.encodedBody() == b.encodedBody())
    }

    @Test func forgedSignatureIsRejected() throws {
        let signed = Fixtures.signed(Fixtures.record())
        var bytes = signed.encoded
        bytes[bytes.count - 1] ^= 0x01
        let forged = try SignedNodeRecord.decode(bytes)
        #expect(throws: RecordRejection.badSignature) { try forged.verify(in: Fixtures.mesh1) }
    }

    @Test func anyModifiedBodyByteBreaksTheSignature() throws {
        let signed = Fixtures.signed(Fixtures.record())
        for index in 0..<(signed.encoded.count - 64) {
            var bytes = signed.encoded
            bytes[index] ^= 0x80
            guard let decoded = try? SignedNodeRecord.decode(bytes) else { continue }
            #expect(throws: RecordRejection.self) { try decoded.verify(in: Fixtures.mesh1) }
        }
    }

    @Test func recordSignedByAnotherKeyIsRejected() throws {
        // identity2 signs a record that claims identity1's keys: the signature cannot verify.
        let record = Fixtures.record()
        let body = record.encodedBody()
        let signature = Fixtures.identity2.sign(SignedNodeRecord.signedMessage(body: body[...], mesh: Fixtures.mesh1))
        let forged = try SignedNodeRecord.decode(body + signature)
        #expect(throws: RecordRejection.badSignature) { try forged.verify(in: Fixtures.mesh1) }
    }

    @Test func recordFromAnotherMeshDoesNotVerify() throws {
        let signed = Fixtures.signed(Fixtures.record(mesh: Fixtures.mesh1))
        #expect(throws: RecordRejection.badSignature) { try signed.verify(in: Fixtures.mesh2) }
    }

    @Test func signRefusesSomeoneElsesRecord() {
        #expect(throws: RecordRejection.notOwnRecord) {
            try SignedNodeRecord.sign(Fixtures.record(), identity: Fixtures.identity2, mesh: Fixtures.mesh1)
        }
    }

    @Test func wrongAddressIsRejected() throws {
        var record = Fixtures.record()
        record.address = Fixtures.identity2.address(in: Fixtures.mesh1)
        let signed = signBypassingChecks(record)
        #expect(
            throws: RecordRejection.addressMismatch(
                claimed: record.address, expected: Fixtures.identity1.address(in: Fixtures.mesh1))
        ) {
            try signed.verify(in: Fixtures.mesh1)
        }
    }

    @Test func wireGuardKeyNotDerivedFromSigningKeyIsRejected() throws {
        // A node signs correctly with its own signing key but claims another node's WireGuard key
        // (and that node's address): it would capture the other node's traffic.
        var record = Fixtures.record()
        record.wireGuardKey = Fixtures.identity2.wireGuardPublicKey
        record.address = Fixtures.identity2.address(in: Fixtures.mesh1)
        let signed = signBypassingChecks(record)
        #expect(throws: RecordRejection.wireGuardKeyMismatch) { try signed.verify(in: Fixtures.mesh1) }
    }

    @Test func aliasRules() throws {
        for alias in ["", "a", "web-1", String(repeating: "x", count: 63), "0day"] {
            var record = Fixtures.record()
            record.alias = alias
            _ = try SignedNodeRecord.sign(record, identity: Fixtures.identity1, mesh: Fixtures.mesh1)
        }
        for alias in ["Web", "-web", "web-", "web.1", "web 1", "wéb", String(repeating: "x", count: 64), "a\u{1b}[31m"]
        {
            var record = Fixtures.record()
            record.alias = alias
            #expect(throws: RecordRejection.invalidAlias) {
                try SignedNodeRecord.sign(record, identity: Fixtures.identity1, mesh: Fixtures.mesh1)
            }
        }
    }

    @Test func descriptionRules() throws {
        for text in ["line\nbreak", "bell\u{07}", "bidi\u{202E}txt", "é", String(repeating: "d", count: 201)] {
            var record = Fixtures.record()
            record.description = text
            #expect(throws: RecordRejection.invalidDescription) {
                try SignedNodeRecord.sign(record, identity: Fixtures.identity1, mesh: Fixtures.mesh1)
            }
        }
    }

    @Test func serviceRules() throws {
        let bad: [[String: String]] = [
            ["": "x"], ["Upper": "x"], ["-lead": "x"], ["sp ace": "x"], [String(repeating: "k", count: 33): "x"],
            ["ok": "tab\t"], ["ok": String(repeating: "v", count: 129)],
        ]
        for services in bad {
            var record = Fixtures.record()
            record.services = services
            #expect(throws: RecordRejection.self) {
                try SignedNodeRecord.sign(record, identity: Fixtures.identity1, mesh: Fixtures.mesh1)
            }
        }
        var record = Fixtures.record()
        record.services = Dictionary(uniqueKeysWithValues: (0..<17).map { ("s\($0)", "v") })
        #expect(throws: RecordRejection.self) {
            try SignedNodeRecord.sign(record, identity: Fixtures.identity1, mesh: Fixtures.mesh1)
        }
    }

    @Test func endpointRules() throws {
        let refused: [(String, EndpointRefusal)] = [
            ("0.0.0.0:1", .unspecified), ("224.0.0.1:1", .multicast), ("255.255.255.255:1", .broadcast),
            ("[::]:1", .unspecified), ("[ff02::1]:1", .multicast), ("vpn.example.com:1", .name),
        ]
        for (text, refusal) in refused {
            var record = Fixtures.record()
            let endpoint = Endpoint(text)!
            record.endpoints = [endpoint]
            #expect(throws: RecordRejection.refusedEndpoint(endpoint, refusal)) {
                try SignedNodeRecord.sign(record, identity: Fixtures.identity1, mesh: Fixtures.mesh1)
            }
        }
        var record = Fixtures.record()
        record.endpoints = [Endpoint("1.2.3.4:5")!, Endpoint("1.2.3.4:5")!]
        #expect(throws: RecordRejection.self) {
            try SignedNodeRecord.sign(record, identity: Fixtures.identity1, mesh: Fixtures.mesh1)
        }
        record.endpoints = []
        record.role = .client
        _ = try SignedNodeRecord.sign(record, identity: Fixtures.identity1, mesh: Fixtures.mesh1)
    }

    @Test func wholeRecordSizeIsBounded() throws {
        var record = Fixtures.record()
        record.services = Dictionary(
            uniqueKeysWithValues: (0..<16).map { ("service-\($0)", String(repeating: "v", count: 128)) })
        #expect(throws: RecordRejection.tooLarge(2_461)) {
            try SignedNodeRecord.sign(record, identity: Fixtures.identity1, mesh: Fixtures.mesh1)
        }
        record.services = Dictionary(
            uniqueKeysWithValues: (0..<8).map { ("service-\($0)", String(repeating: "v", count: 128)) })
        let signed = try SignedNodeRecord.sign(record, identity: Fixtures.identity1, mesh: Fixtures.mesh1)
        #expect(signed.encoded.count <= RecordLimits.maxEncodedSize)
        #expect(signed.encoded.count <= GossipLimits.maxPayloadBytes)
    }

    @Test func zeroPortsAreRejected() {
        var record = Fixtures.record()
        record.gossipPort = 0
        #expect(throws: RecordRejection.invalidPort("gossip")) {
            try SignedNodeRecord.sign(record, identity: Fixtures.identity1, mesh: Fixtures.mesh1)
        }
    }

    @Test func oversizedFieldsAreRejectedByTheDecoder() throws {
        // A 64-byte alias written by hand: the length prefix exceeds the limit.
        var record = Fixtures.record()
        record.alias = ""
        var body = record.encodedBody()
        let aliasOffset = 1 + 32 + 32 + 16 + 8 + 1 + 2 + 2 + 1 + (1 + 4 + 2) + (1 + 16 + 2)
        #expect(body[aliasOffset] == 0)
        body[aliasOffset] = 64
        body.insert(contentsOf: [UInt8](repeating: 0x61, count: 64), at: aliasOffset + 1)
        #expect(throws: WireError.tooLarge(field: "alias", length: 64, limit: 63)) {
            try SignedNodeRecord.decode(body + [UInt8](repeating: 0, count: 64))
        }
        // A whole record over the size limit is refused before it is parsed.
        #expect(throws: WireError.self) {
            try SignedNodeRecord.decode([UInt8](repeating: 1, count: RecordLimits.maxEncodedSize + 1))
        }
    }

    @Test func countsAreBoundedBeforeAllocation() throws {
        var body = Fixtures.record().encodedBody()
        let endpointCountOffset = 1 + 32 + 32 + 16 + 8 + 1 + 2 + 2
        body[endpointCountOffset] = 200
        #expect(throws: WireError.tooLarge(field: "endpoints", length: 200, limit: 8)) {
            try SignedNodeRecord.decode(body + [UInt8](repeating: 0, count: 64))
        }
    }

    @Test func truncatedRecordsAreRejected() {
        let encoded = Fixtures.signed(Fixtures.record()).encoded
        for length in 0..<encoded.count {
            #expect(throws: WireError.self) { try SignedNodeRecord.decode(encoded.prefix(length)) }
        }
        #expect(throws: WireError.self) { try SignedNodeRecord.decode(encoded + [0]) }
    }

    @Test func unsortedServicesAreNotCanonical() throws {
        var record = Fixtures.record()
        record.services = ["a": "1", "b": "2"]
        var body = record.encodedBody()
        let a: [UInt8] = [1, 0x61, 1, 0x31]
        let b: [UInt8] = [1, 0x62, 1, 0x32]
        let start = try #require(body.firstRange(of: a + b))
        body.replaceSubrange(start, with: b + a)
        #expect(throws: WireError.invalid(field: "services", reason: "keys not in strictly increasing order")) {
            try SignedNodeRecord.decode(body + [UInt8](repeating: 0, count: 64))
        }
    }

    /// Formats 1–3 are known (3 carries path candidates); the next is refused as unsupported.
    @Test func unknownFormatVersionIsRejected() {
        for format: UInt8 in [0, 4, 0xFF] {
            var body = Fixtures.record().encodedBody()
            body[0] = format
            #expect(throws: WireError.unsupportedVersion(format)) {
                try SignedNodeRecord.decode(body + [UInt8](repeating: 0, count: 64))
            }
        }
    }

    /// What a malicious member can produce: any content, validly signed with its own key.
    private func signBypassingChecks(_ record: NodeRecord) -> SignedNodeRecord {
        let body = record.encodedBody()
        let signature = Fixtures.identity1.sign(SignedNodeRecord.signedMessage(body: body[...], mesh: Fixtures.mesh1))
        return try! SignedNodeRecord.decode(body + signature)
    }
}
