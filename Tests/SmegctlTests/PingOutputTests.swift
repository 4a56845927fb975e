import MeshCore
import Testing

@testable import smegctl

/// `smegctl ping` reads like ping(8): a line per probe with the path the probes took (relays by
/// alias), a line for each probe that timed out, and the summary.
@Suite struct PingOutputTests {
    static func result(_ path: PathView, _ replies: [Double?], alias: String? = "beta") -> PingResult {
        var result = PingResult(
            member: "YmV0YWJldGFiZXRh", alias: alias, address: "fd00::b", path: path,
            replies: replies.map { $0.map(PingReply.init(rttMilliseconds:)) })
        result.shortId = "62657461"
        return result
    }

    static let names = ["pppp1aaa": "p1", "pppp2aaa": "p2"]

    @Test func aDirectPathGivesTheEndpoint() {
        let lines = PingText.lines(
            Self.result(PathView(kind: "direct", endpoint: "203.0.113.7:51820"), [0.84, nil, 1.5]), names: [:],
            timeoutMilliseconds: 1000)
        #expect(
            lines == [
                "reply from beta (fd00::b) via direct 203.0.113.7:51820: 0.84 ms",
                "no reply from beta within 1000 ms",
                "reply from beta (fd00::b) via direct 203.0.113.7:51820: 1.5 ms",
            ])
    }

    @Test func relayedAndPunchingPathsNameTheRelays() {
        let relayed = Self.result(PathView(kind: "relayed", via: ["pppp1aaa", "pppp2aaa"]), [2.1])
        #expect(
            PingText.lines(relayed, names: Self.names, timeoutMilliseconds: 1000)
                == ["reply from beta (fd00::b) via relays p1 > p2: 2.1 ms"])
        let punching = Self.result(PathView(kind: "punching", via: ["pppp1aaa", "99999999"]), [153.4], alias: nil)
        #expect(
            PingText.lines(punching, names: Self.names, timeoutMilliseconds: 1000)
                == ["reply from 62657461 (fd00::b) via relays p1 > 99999999 while punching: 153 ms"])
        #expect(PingText.via(PathView(kind: "relayed"), names: [:]) == "relays")
        #expect(PingText.via(PathView(kind: "direct"), names: [:]) == "direct")
    }

    @Test func theSummaryCountsLossAndRoundTrips() {
        let some = Self.result(PathView(kind: "direct"), [0.5, nil, 1.0])
        #expect(
            PingText.summary(some) == "--- beta: 3 probes sent, 2 replies, 33% loss, rtt min/avg/max 0.50/0.75/1.0 ms")
        let none = Self.result(PathView(kind: "direct"), [nil])
        #expect(PingText.summary(none) == "--- beta: 1 probe sent, 0 replies, 100% loss")
        let one = Self.result(PathView(kind: "direct"), [12])
        #expect(PingText.summary(one) == "--- beta: 1 probe sent, 1 reply, 0% loss, rtt min/avg/max 12.0/12.0/12.0 ms")
    }

    @Test(arguments: [(0.842, "0.84"), (2.14, "2.1"), (99.94, "99.9"), (153.4, "153"), (0.004, "0.00")])
    func roundTripsKeepTwoOrThreeDigits(value: Double, text: String) {
        #expect(PingText.milliseconds(value) == text)
    }
}
