import MeshCore

/// Invite tokens arrive from people (copy and paste), so any byte string must parse or fail
/// cleanly; a token that parses must print back to a token that parses to the same value.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let token = try? InviteToken(text) else { return 0 }
    guard let again = try? InviteToken(token.text), again == token, again.text == token.text else {
        fatalError("invite token does not round-trip: \(token)")
    }
    return 0
}
