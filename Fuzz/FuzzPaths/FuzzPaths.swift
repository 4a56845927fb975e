import GossipCRDT
import MeshCore

/// Path messages come from any member, so any bytes must decode cleanly or not at all, and what
/// decodes must re-encode to itself. The same bytes then drive a direct-path state machine as a
/// script of events (punches with any attempt and flag, device readings claiming anything,
/// ticks at any pace, link changes, eligibility that comes and goes): it must never trap, and
/// never plan more pairs than its cap.
private let keys = (0..<4).map { WireGuardPublicKey(nodeID: NodeID(UInt64($0), 1, 2, 3)) }
private let candidates = [Endpoint("203.0.113.1:51820")!, Endpoint("[2001:db8::1]:51820")!]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let message = try? PathMessage.decode(bytes) {
        guard (try? PathMessage.decode(message.encoded())) == message else {
            fatalError("path message does not round-trip")
        }
    }
    var paths = DirectPaths()
    var now = Instant.zero
    let everyone = Dictionary(uniqueKeysWithValues: keys.map { ($0, DirectPaths.Eligibility(candidates: candidates)) })
    _ = paths.update(eligible: everyone, ineligible: [:], now: now)
    var index = 0
    while index + 4 <= bytes.count {
        let event = bytes[index]
        let key = keys[Int(bytes[index + 1] % 4)]
        let value = UInt32(bytes[index + 2]) << 8 | UInt32(bytes[index + 3])
        index += 4
        now = now + .milliseconds(Int64(value % 2000))
        let wall = 1_800_000_000 + Double(now.nanoseconds) / 1e9
        switch event % 6 {
        case 0: _ = paths.receivePunch(from: key, attempt: value, handshook: event & 0x80 != 0, now: now, wall: wall)
        case 1:
            let reading = DirectPaths.Observation(
                lastHandshake: event & 0x40 != 0 ? wall - Double(value % 300) : nil, endpoint: nil,
                receivedBytes: UInt64(value), sentBytes: UInt64(value) &* 7)
            _ = paths.observed([key: reading], now: now, wall: wall)
        case 2: _ = paths.linkChanged(now: now)
        case 3: _ = paths.update(eligible: event & 0x80 != 0 ? [:] : everyone, ineligible: [:], now: now)
        case 4: paths.probeAnswered(from: key, nonce: UInt64(value), now: now)
        default: _ = paths.tick(now: now, wall: wall)
        }
        guard paths.plans.count <= keys.count else { fatalError("more plans than pairs") }
    }
    return 0
}
