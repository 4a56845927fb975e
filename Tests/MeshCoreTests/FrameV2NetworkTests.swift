import GossipCRDT
import Testing

@testable import MeshCore

/// Three members exchanging frames over a network that reorders, duplicates and misdelivers:
/// whatever the schedule, each receiver accepts exactly what the replay-window oracle accepts,
/// never a frame twice, never a frame meant for someone else, and round trips validate addresses.
@Suite struct FrameV2NetworkTests {
    typealias F = FrameV2Fixtures

    struct InFlight {
        var from: Int
        var to: Int
        var frame: [UInt8]
        var counter: UInt64
    }

    static let identities = [F.a, F.b, F.c]
    static let addresses = [F.addressA, F.addressB, F.addressA2]

    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func randomSchedulesMatchTheOracle(seed: UInt64) throws {
        var rng = IPAddressDifferentialTests.SplitMix(state: seed)
        var sessions = Self.identities.enumerated().map { index, identity in
            F.session(identity, seed: seed &* 10 &+ UInt64(index))
        }
        let everyone = Set(Self.identities.map(\.nodeID))
        for index in sessions.indices { sessions[index].retain(members: everyone) }
        var oracles: [[FrameV2PrimitiveTests.WindowOracle]] = Array(
            repeating: Array(repeating: .init(), count: 3), count: 3)
        var accepted: [[Set<UInt64>]] = Array(repeating: Array(repeating: [], count: 3), count: 3)
        var inFlight: [InFlight] = []
        for _ in 0..<1_500 {
            if inFlight.isEmpty || rng.next() % 3 == 0 {
                let from = Int(rng.next() % 3)
                let to = (from + 1 + Int(rng.next() % 2)) % 3
                let frame = try sessions[from].seal(
                    [UInt8(truncatingIfNeeded: rng.next())], to: Self.identities[to].nodeID, at: Self.addresses[to])
                inFlight.append(InFlight(from: from, to: to, frame: frame, counter: sessions[from].counterHighWater))
                continue
            }
            // Mostly the oldest frame (in order), sometimes any (reordered); keep it for a
            // duplicate now and then.
            let pick = rng.next() % 4 == 0 ? Int(rng.next() % UInt64(inFlight.count)) : 0
            let item = rng.next() % 5 == 0 ? inFlight[pick] : inFlight.remove(at: pick)
            let wrong = rng.next() % 10 == 0
            let receiver = wrong ? 3 - item.from - item.to : item.to
            do {
                let opened = try sessions[receiver].open(item.frame, from: Self.addresses[item.from])
                #expect(!wrong, "a frame opened at a receiver it was not sealed for")
                #expect(opened.sender == Self.identities[item.from].nodeID && opened.counter == item.counter)
                let expected = oracles[item.from][receiver].accept(item.counter)
                #expect(expected, "accepted what the oracle refuses")
                let first = accepted[item.from][receiver].insert(item.counter).inserted
                #expect(first, "accepted twice")
            } catch {
                if wrong {
                    #expect(error == .badPairTag)
                } else {
                    #expect(error == .replay)
                    let expected = oracles[item.from][receiver].accept(item.counter)
                    #expect(!expected, "refused what the oracle accepts")
                }
            }
        }
        // One clean round trip per ordered pair: the reply echoes a salt sent to the address the
        // other side really uses, so every address ends up validated.
        for from in 0..<3 {
            for to in 0..<3 where to != from {
                let ping = try sessions[from].seal([], to: Self.identities[to].nodeID, at: Self.addresses[to])
                _ = try sessions[to].open(ping, from: Self.addresses[from])
                let pong = try sessions[to].seal([], to: Self.identities[from].nodeID, at: Self.addresses[from])
                _ = try sessions[from].open(pong, from: Self.addresses[to])
                let again = try sessions[from].seal([], to: Self.identities[to].nodeID, at: Self.addresses[to])
                #expect(try sessions[to].open(again, from: Self.addresses[from]).isAddressValidated)
            }
        }
    }
}
