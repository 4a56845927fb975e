import GossipCRDT
import MeshCore

/// Node records are relayed by every member, so each node decodes records written by anyone.
/// Decoding must fail cleanly or give a record whose canonical encoding decodes to the same
/// record; verification must never trap, whatever the content.
private let mesh = MeshID(bytes: Array(0..<10))!
private let validator = MeshRecordValidator(
    mesh: mesh, policy: RoutePolicy(allowExitNodes: true, allowBridgedMeshes: true))

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let signed = try? SignedNodeRecord.decode(bytes) else { return 0 }
    guard let again = try? SignedNodeRecord.decode(signed.encoded), again == signed else {
        fatalError("record does not round-trip")
    }
    _ = try? signed.verify(in: mesh)
    let member = MemberRecord(owner: signed.record.wireGuardKey.nodeID, version: signed.record.version, payload: bytes)
    _ = validator.accept(member)
    _ = signed.record.endpoints.map(\.description)
    _ = signed.record.routes.map(\.description)
    _ = signed.record.address.description
    return 0
}
