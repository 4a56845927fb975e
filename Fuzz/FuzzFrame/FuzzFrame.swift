import GossipCRDT
import MeshCore

/// Frames are the first thing read from the network. The fuzzer opens arbitrary bytes with a
/// fixed mesh and secret (the seed corpus holds frames sealed under them, so mutations of the
/// header and lengths are explored), and when a frame opens, its message must decode or fail
/// with a `WireError`, and re-sealing must open to the same content.
private let mesh = MeshID(bytes: Array(0..<10))!
private let sealer = FrameSealer(mesh: mesh, secret: MeshSecret(bytes: Array(100..<132))!)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? FrameSealer.meshID(of: bytes)
    guard let opened = try? sealer.open(bytes) else { return 0 }
    guard let resealed = try? sealer.seal(sender: opened.sender, message: opened.message),
        let reopened = try? sealer.open(resealed),
        reopened.sender == opened.sender, reopened.message == opened.message
    else {
        fatalError("frame does not round-trip")
    }
    _ = try? GossipMessageCodec.decode(opened.message)
    return 0
}
