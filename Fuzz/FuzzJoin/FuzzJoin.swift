import GossipCRDT
import MeshCore

/// Join frames arrive from anyone on the gossip port, before any secret, and invitations are
/// pasted by people: any bytes must decode cleanly or not at all, opening a grant addressed to
/// someone else must fail quietly, and an invitation that parses must print back to itself.
private let joiner = try! NodeIdentity(seed: [UInt8](repeating: 7, count: 32))
private let mesh = MeshID(bytes: Array(0..<10))!
private let header = Array("SMEG".utf8) + [3] + mesh.bytes

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    for frame in [bytes, header + bytes] {
        switch JoinMessage.decode(frame, mesh: mesh) {
        case .grant(let grant):
            _ = JoinMessage.open(
                grant, nonce: Array(frame.dropFirst(16).prefix(16)), identity: joiner, issuer: joiner.signingKey,
                mesh: mesh)
        case .secretGrant:
            _ = JoinMessage.openSecretGrant(
                frame, nonce: Array(frame.dropFirst(16).prefix(16)), identity: joiner, mesh: mesh)
        case .request, .refusal, .secretRequest, nil:
            break
        }
    }
    let text = String(decoding: bytes, as: UTF8.self)
    if let invitation = try? Invitation(text) {
        guard (try? Invitation(invitation.text)) == invitation else { fatalError("invitation does not round-trip") }
    }
    return 0
}
