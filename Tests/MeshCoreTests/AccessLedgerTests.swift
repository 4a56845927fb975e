import GossipCRDT
import Testing

@testable import MeshCore

/// Tags and access policies as owner statements: the docs/protocol.md vectors (computed
/// independently with Python's hashlib and cryptography), and what the ledger decides from
/// them, whatever order they arrive in.
@Suite struct AccessLedgerTests {
    let mesh = MeshID.committing(to: Fixtures.identity1.signingKey, salt: Array(0xA0..<0xB0))!
    let issuedAt: UInt64 = 1_800_000_000_000
    let member = NodeID(bytes: Array(0x40..<0x60))!

    func sign(_ decision: OwnerStatement.Decision, by owner: NodeIdentity = Fixtures.identity1) -> OwnerStatement {
        OwnerStatement.sign(decision, by: owner, at: issuedAt, mesh: mesh)
    }

    func tags(_ names: [String], version: UInt64, of member: NodeID? = nil) -> OwnerStatement.Decision {
        .tags(TagAssignment(member: member ?? self.member, version: version, tags: names.map { AccessTag($0)! })!)
    }

    func policy(_ text: String, version: UInt64) throws -> OwnerStatement.Decision {
        let policy = try AccessPolicyText.parse(text).resolve { _ in self.member }
        return .accessPolicy(AccessPolicyUpdate(version: version, policy: policy)!)
    }

    @Test func statementVectors() throws {
        let tagging = sign(tags(["staff", "laptop"], version: 1))
        #expect(
            tagging.bytes
                == hexBytes(
                    "010a 03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8 000001a3185c5000"
                        + " 404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f 0000000000000001"
                        + " 02 066c6170746f70 057374616666"
                        + " 0deb8ecd7804f08af6ff7b752f311ef90cd6d0cb9114b259c93108b200d2e53c"
                        + "cb529c4f3744cdb0e355bc9bfbf92c2ac483668e925150e989d0bb34f6bd6e0b"))
        #expect(tagging.id == hexBytes("765033358a04543428924c5e8b2c95d5"))
        #expect(try OwnerStatement(bytes: tagging.bytes, mesh: mesh) == tagging)

        let update = try #require(AccessPolicyUpdate(version: 1, policy: AccessPolicyCodecTests.example))
        let access = sign(.accessPolicy(update))
        #expect(
            access.bytes
                == hexBytes(
                    "010b 03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8 000001a3185c5000"
                        + " 0000000000000001 0051 " + AccessPolicyCodecTests.exampleHex
                        + " a2378786e99374bd4a4bd684051dcfd5ab17352c57862bba2060bc6bddf4c81a"
                        + "d48ec65984de785cc861780301c3568fe904b4e7ff85562d13c9485780950702"))
        #expect(access.id == hexBytes("fb184a78c49b313fcfa3636faa6e275d"))
        #expect(try OwnerStatement(bytes: access.bytes, mesh: mesh) == access)

        // The largest policy still fits a statement, and one byte more does not decode.
        #expect(OwnerStatement.maxByteCount == 42 + 10 + AccessPolicy.maxEncodedBytes + 64)
        var forged = access.bytes
        forged[forged.count - 70] ^= 1
        #expect(throws: OwnerStatementError.self) { try OwnerStatement(bytes: forged, mesh: self.mesh) }
    }

    @Test func theNewestVersionWinsPerMemberWhateverTheOrder() throws {
        let other = NodeID(9, 9, 9, 9)
        let statements = [
            sign(tags(["a"], version: 1)), sign(tags(["b", "c"], version: 3)), sign(tags(["d"], version: 2)),
            sign(tags(["x"], version: 1, of: other)), sign(try policy("allow * -> tag:a", version: 1)),
            sign(try policy("allow tag:b -> * tcp/22", version: 2)),
        ]
        var rng = SplitMix64(seed: 5)
        var answers: Set<[String]> = []
        for _ in 0..<20 {
            var ledger = OwnerLedger(mesh: mesh, founder: Fixtures.identity1.signingKey)
            for statement in statements.shuffled(using: &rng) { #expect(ledger.insert(statement) == .added) }
            #expect(ledger.tags[member]?.value.tags.map(\.name) == ["b", "c"])
            #expect(ledger.tags[member]?.value.version == 3)
            #expect(ledger.tags[other]?.value.tags.map(\.name) == ["x"])
            #expect(ledger.accessPolicy?.value.version == 2)
            #expect(ledger.accessPolicy?.issuer == Fixtures.identity1.signingKey)
            answers.insert(ledger.accessPolicy.map { AccessPolicyText.render($0.value.policy) }.map { [$0] } ?? [])
        }
        #expect(answers == [["allow tag:b -> * tcp/22\n"]])
    }

    @Test func tiesGoToTheSmallerStatementID() throws {
        let one = sign(tags(["a"], version: 4))
        let two = sign(tags(["b"], version: 4))
        let smaller = one.id.lexicographicallyPrecedes(two.id) ? one : two
        var ledger = OwnerLedger(mesh: mesh, founder: Fixtures.identity1.signingKey)
        ledger.merge([one, two])
        guard case .tags(let expected) = smaller.decision else { return }
        #expect(ledger.tags[member]?.value == expected)
    }

    @Test func onlyOwnersTagAndSetPoliciesAndARemovedOwnersStopCounting() throws {
        let second = Fixtures.identity2
        var ledger = OwnerLedger(mesh: mesh, founder: Fixtures.identity1.signingKey)
        let stranger = sign(tags(["a"], version: 1), by: second)
        #expect(ledger.insert(stranger) == .notAnOwner, "a member that is not an owner makes nobody store it")
        #expect(ledger.tags.isEmpty)
        ledger.insert(sign(.addOwner(second.signingKey)))
        ledger.merge([stranger, sign(try policy("allow * -> *", version: 1), by: second)])
        #expect(ledger.tags[member]?.issuer == second.signingKey)
        #expect(ledger.accessPolicy?.issuer == second.signingKey)
        ledger.insert(sign(.removeOwner(second.signingKey)))
        #expect(ledger.tags[member] == nil && ledger.accessPolicy == nil, "a removed owner's decisions no longer count")
    }
}
