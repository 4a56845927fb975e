import GossipCRDT
import Testing

@testable import MeshCore

@Suite struct ValidatorTests {
    let validator = MeshRecordValidator(mesh: Fixtures.mesh1)

    func member(_ identity: NodeIdentity = Fixtures.identity1, version: UInt64) -> MemberRecord {
        let signed = Fixtures.signed(Fixtures.record(identity, version: version), identity: identity)
        return MemberRecord(owner: identity.nodeID, version: version, payload: signed.encoded)
    }

    @Test func acceptsAGenuineRecord() throws {
        #expect(validator.accept(member(version: 3)))
        let signed = try validator.validate(member(version: 3), current: member(version: 2))
        #expect(signed.record.version == 3)
    }

    @Test func replayedOlderVersionIsRejected() {
        #expect(throws: RecordRejection.staleVersion(current: 5, received: 4)) {
            try validator.validate(member(version: 4), current: member(version: 5))
        }
        #expect(throws: RecordRejection.staleVersion(current: 5, received: 5)) {
            try validator.validate(member(version: 5), current: member(version: 5))
        }
    }

    @Test func relabelledVersionIsRejected() {
        // A relay bumps the envelope version of a genuine record to pin it: the owner never signed it.
        var pinned = member(version: 2)
        pinned.version = .max
        #expect(!validator.accept(pinned))
    }

    @Test func recordStoredUnderAnotherMemberIsRejected() {
        var stolen = member(version: 2)
        stolen.owner = Fixtures.identity2.nodeID
        #expect(throws: RecordRejection.nodeIDMismatch) { try validator.validate(stolen, current: nil) }
    }

    @Test func forgedAndMalformedPayloadsAreRejected() {
        var forged = member(version: 2)
        forged.payload[forged.payload.count - 5] ^= 1
        #expect(throws: RecordRejection.badSignature) { try validator.validate(forged, current: nil) }
        var truncated = member(version: 2)
        truncated.payload.removeLast(70)
        #expect(!validator.accept(truncated))
        #expect(!validator.accept(MemberRecord(owner: Fixtures.identity1.nodeID, version: 1, payload: [])))
    }

    @Test func recordFromAnotherMeshIsRejected() {
        let other = MeshRecordValidator(mesh: Fixtures.mesh2)
        #expect(!other.accept(member(version: 1)))
    }

    @Test func leftTombstoneMustBeSignedByTheLeaver() {
        let own = TombstoneSigning.make(
            member: Fixtures.identity1.nodeID, version: 4, kind: .left, identity: Fixtures.identity1,
            mesh: Fixtures.mesh1)
        #expect(validator.accept(own, issuer: member(version: 3)))
        // Someone else cannot make a member leave.
        let imposed = TombstoneSigning.make(
            member: Fixtures.identity1.nodeID, version: 4, kind: .left, identity: Fixtures.identity2,
            mesh: Fixtures.mesh1)
        #expect(!validator.accept(imposed, issuer: member(Fixtures.identity2, version: 1)))
    }

    @Test func engineSignerProofsAreAccepted() {
        let signer = MeshGossipSigner(identity: Fixtures.identity2, mesh: Fixtures.mesh1)
        var tombstone = Tombstone(
            member: Fixtures.identity1.nodeID, version: 9, kind: .pruned, issuer: Fixtures.identity2.nodeID)
        tombstone.proof = signer.proof(for: tombstone)
        #expect(validator.accept(tombstone, issuer: member(Fixtures.identity2, version: 1)))
        // A proof made for one mesh does not carry over to another.
        let other = MeshGossipSigner(identity: Fixtures.identity2, mesh: Fixtures.mesh2)
        tombstone.proof = other.proof(for: tombstone)
        #expect(!validator.accept(tombstone, issuer: member(Fixtures.identity2, version: 1)))
    }

    @Test func prunedTombstoneNeedsTheIssuersSignature() {
        let tombstone = TombstoneSigning.make(
            member: Fixtures.identity1.nodeID, version: 4, kind: .pruned, identity: Fixtures.identity2,
            mesh: Fixtures.mesh1)
        let issuer = member(Fixtures.identity2, version: 1)
        #expect(validator.accept(tombstone, issuer: issuer))
        #expect(!validator.accept(tombstone, issuer: nil))
        #expect(!validator.accept(tombstone, issuer: member(Fixtures.identity1, version: 1)))
        var altered = tombstone
        altered.version = 5
        #expect(!validator.accept(altered, issuer: issuer))
        var unsigned = tombstone
        unsigned.proof = []
        #expect(!validator.accept(unsigned, issuer: issuer))
        #expect(!MeshRecordValidator(mesh: Fixtures.mesh2).accept(tombstone, issuer: issuer))
    }
}
