import GossipCRDT
import MeshCore

/// Every gossip message body after a frame opens. Any member (or a holder of a leaked secret)
/// can send arbitrary bodies, so decoding must be total, and decode → encode → decode must give
/// the same message with the same bytes (one encoding per message).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // Every short heartbeat leader resolves, so that the fuzzer reaches past it.
    let resolve: (UInt64) -> NodeID? = { NodeID($0, 1, 2, 3) }
    guard let message = try? GossipMessageCodec.decode(bytes, leader: resolve) else { return 0 }
    let short = GossipMessageCodec.hasShortLeader(bytes)
    guard let encoded = try? GossipMessageCodec.encode(message, shortLeader: short), encoded == bytes,
        let again = try? GossipMessageCodec.decode(encoded, leader: resolve), again == message
    else {
        fatalError("message does not round-trip: \(message)")
    }
    return 0
}
