import GossipCRDT
import MeshCore

/// Version 2 frames are the first thing read from the network once the daemon speaks them. The
/// fuzzer opens arbitrary bytes with a fixed receiver (its seed corpus holds frames sealed to it,
/// long and short, an introduction and a version 1 frame, so mutations reach past the AEAD only from those), and
/// checks that acceptance is a function of the bytes and the state: an accepted frame opens the
/// same way again from the same state, is refused as a replay after it was accepted from a present
/// member, and its reply budget never traps when consumed.
private let mesh = MeshID(bytes: Array(0..<10))!
private let secret = MeshSecret(bytes: Array(100..<132))!
private let sender = try! NodeIdentity(seed: Array(0..<32)).nodeID
private let joiner = try! NodeIdentity(seed: [UInt8](repeating: 0x07, count: 32)).nodeID
private let address = PeerAddress(ip: .v4(IPv4Address(192, 0, 2, 1)), port: 51900)

private struct Counter: RandomNumberGenerator, Sendable {
    var state: UInt64 = 1
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return state
    }
}

private let receiver: FrameSession = {
    var session = FrameSession(
        mesh: mesh, secret: secret, identity: try! NodeIdentity(seed: [UInt8](repeating: 0x42, count: 32)),
        clock: { 1_000 }, random: Counter())
    session.retain(members: [sender, joiner])
    return session
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var session = receiver
    _ = try? session.versionOneSender(of: bytes)
    guard let opened = try? session.open(bytes, from: address) else { return 0 }
    var again = receiver
    guard let reopened = try? again.open(bytes, from: address), reopened == opened else {
        fatalError("an accepted frame does not open the same way from the same state")
    }
    do {
        let replayed = try session.open(bytes, from: address)
        if opened.isReplayChecked { fatalError("a replay-checked frame opened twice") }
        guard replayed.sender == opened.sender, replayed.message == opened.message else {
            fatalError("a frame opened twice with different content")
        }
    } catch {
        guard opened.isReplayChecked, error == .replay else {
            fatalError("second open failed with \(error)")
        }
    }
    var budget = opened.replyBudget
    _ = try? session.seal(Array(opened.message.prefix(64)), to: opened.sender, at: address, budget: &budget)
    _ = try? GossipMessageCodec.decode(opened.message)
    return 0
}
