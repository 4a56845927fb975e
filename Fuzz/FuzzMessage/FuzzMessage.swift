import GossipCRDT
import MeshCore

/// Every gossip message body after a frame opens. Any member (or a holder of a leaked secret)
/// can send arbitrary bodies, so decoding must be total, and decode → encode → decode must give
/// the same message with the same bytes (one encoding per message).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let message = try? GossipMessageCodec.decode(bytes) else { return 0 }
    guard let encoded = try? GossipMessageCodec.encode(message), encoded == bytes,
        let again = try? GossipMessageCodec.decode(encoded), again == message
    else {
        fatalError("message does not round-trip: \(message)")
    }
    return 0
}
