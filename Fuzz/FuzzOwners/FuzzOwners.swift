import GossipCRDT
import MeshCore

/// Owner messages, statements and tickets come from any member (and tickets from anyone who
/// pastes an invitation), so any bytes must decode cleanly or not at all. What decodes must
/// re-encode to itself, and a ledger fed whatever decodes must never trap.
///
/// Valid signatures do not come from random bytes, so the input also drives a structure-aware
/// half: the fuzzer's bytes pick the decision and its fields, a fixed owner signs them, and the
/// result must round-trip and survive every single-byte change without a crash.
private let owner = try! NodeIdentity(seed: Array(0..<32))
private let mesh = MeshID.committing(to: owner.signingKey, salt: Array(0xA0..<0xB0))!

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var ledger = OwnerLedger(mesh: mesh, founder: owner.signingKey)
    if let message = try? OwnerMessage.decode(bytes, mesh: mesh) {
        guard (try? OwnerMessage.decode(message.encoded(), mesh: mesh)) == message else {
            fatalError("owner message does not round-trip")
        }
        if case .statements(let statements, _) = message { ledger.merge(statements) }
    }
    if let statement = try? OwnerStatement(bytes: bytes, mesh: mesh) {
        guard (try? OwnerStatement(bytes: statement.bytes, mesh: mesh)) == statement else {
            fatalError("owner statement does not round-trip")
        }
        ledger.insert(statement)
    }
    _ = try? InviteTicket(bytes: bytes, mesh: mesh)
    signed(from: bytes, into: &ledger)
    _ = ledger.owners.count + ledger.evicted.count + Int(ledger.summary & 1)
    return 0
}

/// A statement the fixed owner signs over fields taken from the input.
private func signed(from bytes: [UInt8], into ledger: inout OwnerLedger) {
    guard bytes.count >= 41 else { return }
    let subject = Array(bytes[1..<33])
    let number = bytes[33..<41].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    let decision: OwnerStatement.Decision
    switch bytes[0] % 10 {
    case 0: decision = .addOwner(SigningPublicKey(uncheckedBytes: subject))
    case 1: decision = .removeOwner(SigningPublicKey(uncheckedBytes: subject))
    case 2: decision = .evict(NodeID(bytes: subject)!)
    case 3: decision = .revokeInvite(InviteID(bytes: Array(subject.prefix(16)))!)
    case 4:
        decision = .admit(
            Admission(
                member: SigningPublicKey(uncheckedBytes: subject), role: number % 2 == 0 ? .member : .client,
                invite: InviteID(bytes: Array(subject.suffix(16)))))
    case 5: decision = .requireAdmissions
    case 6: decision = .rotate(generation: number, commitment: subject)
    case 7:
        let tags = bytes[41...].prefix(8).compactMap { AccessTag(String(UnicodeScalar(0x61 + $0 % 26))) }
        guard let assignment = TagAssignment(member: NodeID(bytes: subject)!, version: number, tags: tags) else {
            return
        }
        decision = .tags(assignment)
    case 8:
        guard let policy = try? AccessPolicy(decoding: bytes[41...]),
            let update = AccessPolicyUpdate(version: number, policy: policy)
        else { return }
        decision = .accessPolicy(update)
    default:
        let name = String(decoding: bytes[41...].prefix(20).map { 0x61 + $0 % 26 }, as: UTF8.self)
        guard let update = SettingsUpdate(version: number, name: name.isEmpty ? nil : name, policy: .default) else {
            return
        }
        decision = .settings(update)
    }
    let statement = OwnerStatement.sign(decision, by: owner, at: number, mesh: mesh)
    guard (try? OwnerStatement(bytes: statement.bytes, mesh: mesh)) == statement else {
        fatalError("a signed statement does not decode to itself")
    }
    ledger.insert(statement)
    var forged = statement.bytes
    let index = Int(number % UInt64(forged.count))
    forged[index] ^= 1
    if (try? OwnerStatement(bytes: forged, mesh: mesh)) != nil { fatalError("a changed statement verified") }
}
