import GossipCRDT
import Testing

@testable import MeshCore

/// The replay window, reply budget and peer address of frame version 2, against an oracle or an
/// algebraic property.
@Suite struct FrameV2PrimitiveTests {
    // MARK: Replay window

    /// Oracle with unbounded memory: accept c iff it was never accepted and it is above the
    /// smallest of the `capacity` largest counters accepted so far (or nothing was accepted).
    struct WindowOracle {
        var accepted: [UInt64] = []  // ascending

        mutating func accept(_ counter: UInt64) -> Bool {
            if !accepted.isEmpty {
                let threshold = accepted[max(0, accepted.count - ReplayWindow.capacity)]
                guard counter > threshold, !accepted.contains(counter) else {
                    return false
                }
            }
            accepted.insert(counter, at: accepted.firstIndex { $0 > counter } ?? accepted.endIndex)
            return true
        }
    }

    @Test func windowMatchesOracleOnRandomSequences() {
        var rng = IPAddressDifferentialTests.SplitMix(state: 11)
        for round in 0..<300 {
            var window = ReplayWindow()
            var oracle = WindowOracle()
            var everAccepted = Set<UInt64>()
            // Small ranges force duplicates and evictions; huge ones exercise extreme values.
            let range: UInt64 = [40, 200, UInt64.max][round % 3]
            var base = rng.next() % 1_000_000
            for _ in 0..<200 {
                let counter: UInt64
                switch rng.next() % 4 {
                case 0: counter = rng.next() % range
                case 1:
                    base &+= rng.next() % 50
                    counter = base
                case 2: counter = base &- rng.next() % 30
                default: counter = everAccepted.randomElement(using: &rng) ?? 0
                }
                let wasNew = counter > (window.highest ?? 0) || window.highest == nil
                let accepted = window.accept(counter)
                let expected = oracle.accept(counter)
                #expect(accepted == expected, "counter \(counter)")
                if accepted {
                    #expect(everAccepted.insert(counter).inserted, "accepted twice: \(counter)")
                }
                if wasNew { #expect(accepted) }
                #expect(window.retained.count <= ReplayWindow.capacity)
                #expect(window.retained == window.retained.sorted())
            }
        }
    }

    @Test func reorderingWithinTheWindowIsAccepted() {
        var rng = IPAddressDifferentialTests.SplitMix(state: 5)
        for _ in 0..<200 {
            // Any permutation of counters that keeps each within `capacity` positions of where it
            // belongs, after an opening frame below all of them, is accepted in full.
            var counters = (1...64).map { UInt64($0) * 1_000 + rng.next() % 1_000 }
            for index in stride(from: 0, to: counters.count - 8, by: 8) {
                counters[index..<index + 8].shuffle(using: &rng)
            }
            var window = ReplayWindow()
            #expect(window.accept(0) == true)
            for counter in counters { #expect(window.accept(counter) == true) }
            for counter in counters { #expect(window.accept(counter) == false) }
        }
    }

    @Test func windowRefusesExtremesOnlyWhenOld() {
        var window = ReplayWindow()
        #expect(window.accept(UInt64.max) == true)
        #expect(window.accept(UInt64.max) == false)
        #expect(window.accept(0) == false)
        var empty = ReplayWindow()
        #expect(empty.accept(0) == true)
        #expect(empty.accept(0) == false)
        #expect(empty.accept(1) == true)
    }

    // MARK: Reply budget

    @Test func budgetIsThreeTimesTheFrame() {
        var budget = ReplyBudget(receivedBytes: 200)
        #expect(budget.remainingBytes == 600)
        #expect(budget.consume(frameSize: 400) == true)
        #expect(budget.consume(frameSize: 201) == false)
        #expect(budget.remainingBytes == 200)
        #expect(budget.consume(frameSize: 200) == true)
        #expect(budget.remainingBytes == 0)
        #expect(budget.consume(frameSize: 1) == false)
    }

    @Test func smallestFrameGrantsRoomForAMinimalReply() {
        let budget = ReplyBudget(receivedBytes: FrameSession.overhead)
        // A digest without rumors is under 60 bytes of message.
        #expect(budget.allows(frameSize: FrameSession.frameSize(messageBytes: 60)))
    }

    @Test func budgetArithmeticNeverTraps() {
        var rng = IPAddressDifferentialTests.SplitMix(state: 3)
        let extremes = [Int.min, Int.min + 1, -1, 0, 1, Int.max / 3, Int.max / 3 + 1, Int.max - 1, Int.max]
        let values = extremes + (0..<2_000).map { _ in Int(truncatingIfNeeded: rng.next()) }
        for received in values {
            var budget = ReplyBudget(receivedBytes: received)
            #expect((budget.remainingBytes ?? 0) >= 0)
            for size in extremes + [Int(truncatingIfNeeded: rng.next())] {
                let before = budget.remainingBytes ?? 0
                if budget.consume(frameSize: size) {
                    #expect(size >= 0 && size <= before)
                    #expect(budget.remainingBytes == before - size)
                } else {
                    #expect(budget.remainingBytes == before)
                }
            }
            #expect(FrameSession.frameSize(messageBytes: received) >= FrameSession.overhead)
        }
        var unlimited = ReplyBudget.unlimited
        #expect(unlimited.consume(frameSize: Int.max) == true)
        #expect(unlimited.isUnlimited)
        #expect(!ReplyBudget.unlimited.allows(frameSize: -1))
    }

    // MARK: Addresses

    @Test func ipv4MappedAddressesAreIPv4() {
        let mapped = PeerAddress(ip: .v6(IPv6Address("::ffff:203.0.113.7")!), port: 7)
        let plain = PeerAddress(ip: .v4(IPv4Address(203, 0, 113, 7)), port: 7)
        #expect(mapped == plain)
        #expect(mapped.description == "203.0.113.7:7")
        #expect(PeerAddress(ip: .v6(IPv6Address("2001:db8::1")!), port: 9).description == "[2001:db8::1]:9")
    }
}
