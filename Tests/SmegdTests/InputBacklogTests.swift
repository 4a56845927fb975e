import PropertyBased
import Testing

@testable import smegd

@Suite struct InputBacklogTests {
    let start = ContinuousClock.now

    /// A datagram that was the last one queued says nothing is unread, however long it waited:
    /// the daemon has caught up (it is still dropped, being more than a second old).
    @Test func theLastQueuedDatagramMeansCaughtUp() {
        var backlog = InputBacklog()
        let reading = backlog.handle(
            receivedAt: start, now: start + .seconds(3), received: 1, dropped: 0)
        #expect(reading.behind == .zero)
        #expect(reading.waiting == 0)
        #expect(!reading.warn)
        #expect(reading.stale)
    }

    /// Only a datagram that waited more than a second is dropped.
    @Test func aDatagramIsStaleAfterASecond() {
        var backlog = InputBacklog()
        #expect(!backlog.handle(receivedAt: start, now: start + .seconds(1), received: 5, dropped: 0).stale)
        #expect(backlog.handle(receivedAt: start, now: start + .milliseconds(1001), received: 5, dropped: 0).stale)
    }

    /// With others queued behind it, its age is the lag; a lag of a second or more is worth one
    /// warning a minute, and the gauge reports the window's largest lag once a second.
    @Test func aQueueBehindADatagramIsItsAgeAndWarnsOnceAMinute() {
        var backlog = InputBacklog()
        let first = backlog.handle(
            receivedAt: start, now: start + .milliseconds(1500), received: 10, dropped: 0)
        #expect(first.behind == .milliseconds(1500))
        #expect(first.waiting == 9)
        #expect(first.warn)
        #expect(first.gauge == nil)
        let second = backlog.handle(
            receivedAt: start + .milliseconds(100), now: start + .milliseconds(2600), received: 10, dropped: 0)
        #expect(second.behind == .milliseconds(2500))
        #expect(!second.warn)
        #expect(second.gauge == .milliseconds(2500))
        #expect(first.stale && second.stale)
        let later = backlog.handle(
            receivedAt: start + .seconds(70), now: start + .seconds(72), received: 20, dropped: 0)
        #expect(later.warn)
    }

    /// Datagrams dropped from the full queue are not waiting; counters that disagree (read at
    /// different moments) never make the count negative or trap, and a receive time after
    /// `now` is no lag.
    @Test func countsAndTimesNeverTrap() async {
        await propertyCheck(input: Gen.int(in: 0...1_000_000), Gen.int(in: 0...1_000_000), Gen.int(in: -5000...5000)) {
            received, dropped, skewMillis in
            var backlog = InputBacklog()
            let reading = backlog.handle(
                receivedAt: start + .milliseconds(skewMillis), now: start, received: received, dropped: dropped)
            #expect(reading.waiting >= 0)
            #expect(reading.waiting <= max(0, received - dropped))
            #expect(reading.behind >= .zero)
            if skewMillis >= 0 { #expect(reading.behind == .zero) }
        }
    }
}
