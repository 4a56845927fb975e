import Testing

@testable import MeshCore

/// The owner statement, ledger summary and invite ticket vectors of docs/protocol.md, computed
/// independently with Python's hashlib and cryptography (Ed25519 signatures are deterministic).
@Suite struct OwnerStatementVectorTests {
    func unhex(_ text: String) -> [UInt8] {
        let digits = Array(text.utf8.filter { $0 != UInt8(ascii: " ") })
        return stride(from: 0, to: digits.count, by: 2).map {
            UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)!
        }
    }

    let mesh = MeshID.committing(to: Fixtures.identity1.signingKey, salt: Array(0xA0..<0xB0))!
    let issuedAt: UInt64 = 1_800_000_000_000
    let invite = InviteID(bytes: Array(0x10..<0x20))!

    var addOwner: OwnerStatement {
        OwnerStatement.sign(.addOwner(Fixtures.identity2.signingKey), by: Fixtures.identity1, at: issuedAt, mesh: mesh)
    }

    var admit: OwnerStatement {
        OwnerStatement.sign(
            .admit(Admission(member: Fixtures.identity2.signingKey, role: .member, invite: invite)),
            by: Fixtures.identity1, at: issuedAt, mesh: mesh)
    }

    @Test func statements() throws {
        #expect(mesh.bytes == unhex("bdde48ed3061b3a685da"))
        #expect(
            addOwner.bytes
                == unhex(
                    "0101 03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8 000001a3185c5000"
                        + " 2152f8d19b791d24453242e15f2eab6cb7cffa7b6a5ed30097960e069881db12"
                        + " 9b9b5dd4aa032ed3a5e9ce880e8b226c94312e688d34431267ae6a2904e66b0b"
                        + "0046b6ccb3553c8a5f9051f4720c4cc6c0b49f1745ca71c13a9e38536004970b"))
        #expect(addOwner.id == unhex("b48dabd01535499ee56e70154b9f6d68"))
        #expect(
            admit.bytes
                == unhex(
                    "0105 03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8 000001a3185c5000"
                        + " 2152f8d19b791d24453242e15f2eab6cb7cffa7b6a5ed30097960e069881db12 00"
                        + " 101112131415161718191a1b1c1d1e1f"
                        + " 9c7dfa02a7211346dc35619cb4e437d8db429d9a8abfb545106c5f202011c370"
                        + "3056525364549721341861de4937f277ad8768f7138a2ded4fba084a1c869504"))
        #expect(admit.id == unhex("a9f5b0ca29a1009e01deb3e4194b3ee6"))
        #expect(try OwnerStatement(bytes: admit.bytes, mesh: mesh) == admit)
    }

    /// An admission that names an IPv4 address is kind 9: kind 5's subject and the address.
    @Test func admissionWithAnIPv4Address() throws {
        let admission = Admission(
            member: Fixtures.identity2.signingKey, role: .member, invite: invite, ipv4: IPv4Address(100, 64, 0, 7))
        let statement = OwnerStatement.sign(.admit(admission), by: Fixtures.identity1, at: issuedAt, mesh: mesh)
        #expect(
            statement.bytes
                == unhex(
                    "0109 03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8 000001a3185c5000"
                        + " 2152f8d19b791d24453242e15f2eab6cb7cffa7b6a5ed30097960e069881db12 00"
                        + " 101112131415161718191a1b1c1d1e1f 64400007"
                        + " 83b14b3573396028603952d9c8a60a56f7ac087d121cd7067fe54384c8ecfee9"
                        + "4ba92b03cc061864ca25046c857e93e50e1cfa696f8df17a3176c5301393d800"))
        #expect(statement.id == unhex("420fac9791ad4580720d78d5ff2580cc"))
        let decoded = try OwnerStatement(bytes: statement.bytes, mesh: mesh)
        #expect(decoded == statement)
        #expect(IPv4Assignment.Claim(decoded)?.address == IPv4Address(100, 64, 0, 7))
        #expect(statement.bytes.count == OwnerStatement.admissionByteCount)
        // Without its address the same bytes are no statement: the kind fixes the length.
        #expect(throws: OwnerStatementError.self) {
            try OwnerStatement(bytes: Array(statement.bytes[0..<91]) + statement.bytes[95...], mesh: mesh)
        }
    }

    /// Found by FuzzOwners: an all-zero invite id is the encoding's "none", so it must be none.
    @Test func anAllZeroInviteIDIsNone() throws {
        let zero = InviteID(bytes: [UInt8](repeating: 0, count: 16))
        let admission = Admission(member: Fixtures.identity2.signingKey, role: .client, invite: zero)
        #expect(admission.invite == nil)
        let statement = OwnerStatement.sign(.admit(admission), by: Fixtures.identity1, at: issuedAt, mesh: mesh)
        #expect(try OwnerStatement(bytes: statement.bytes, mesh: mesh) == statement)
    }

    @Test func ledgerSummary() {
        var ledger = OwnerLedger(mesh: mesh, founder: Fixtures.identity1.signingKey)
        ledger.merge([admit, addOwner])
        #expect(ledger.summary == 0x7da3_29ec_eddb_8868)
        #expect(ledger.owners == [Fixtures.identity1.signingKey, Fixtures.identity2.signingKey])
    }

    @Test func ticket() throws {
        let ticket = InviteTicket.sign(
            id: invite, expiresAt: issuedAt + 86_400_000, uses: 1, role: .member, makesOwner: false,
            by: Fixtures.identity1, mesh: mesh)
        #expect(
            ticket.bytes
                == unhex(
                    "01 03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
                        + " 101112131415161718191a1b1c1d1e1f 000001a31d82ac00 0001 00 00"
                        + " e7462dbc73b92df80b9b6018bc1b171c29b2290ac703a94dfe0616ae2429a2ab"
                        + "29e54d91c56c807a608678645ac789efc2d11df1c5995a776dea464b0a792c0e"))
        #expect(try InviteTicket(bytes: ticket.bytes, mesh: mesh) == ticket)
    }
}
