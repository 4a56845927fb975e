import MeshAPI

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// What `smegctl ping` prints: a line per probe, in the order they went out, then a summary in
/// the words of ping(8), so that it reads like the tool people already know.
enum PingText {
    /// "reply from beta (fd..) via direct 203.0.113.7:51820: 0.84 ms", or "no reply from beta
    /// within 1000 ms". The path is the one the first probe took: the API reports one.
    static func lines(_ result: PingResult, names: [String: String], timeoutMilliseconds: Int) -> [String] {
        let who = name(result)
        let path = via(result.path, names: names)
        return result.replies.map { reply in
            guard let reply else { return "no reply from \(who) within \(timeoutMilliseconds) ms" }
            return "reply from \(who) (\(result.address)) via \(path): \(milliseconds(reply.rttMilliseconds)) ms"
        }
    }

    /// "--- beta: 3 probes sent, 2 replies, 33% loss, rtt min/avg/max 0.71/0.84/1.02 ms".
    static func summary(_ result: PingResult) -> String {
        let rtts = result.replies.compactMap { $0?.rttMilliseconds }
        let sent = result.replies.count
        let loss = sent == 0 ? 0 : Int((Double(sent - rtts.count) * 100 / Double(sent)).rounded())
        var text =
            "--- \(name(result)): \(sent) probe\(sent == 1 ? "" : "s") sent, \(rtts.count) "
            + "repl\(rtts.count == 1 ? "y" : "ies"), \(loss)% loss"
        if let low = rtts.min(), let high = rtts.max() {
            let average = rtts.reduce(0, +) / Double(rtts.count)
            text += ", rtt min/avg/max \([low, average, high].map(milliseconds).joined(separator: "/")) ms"
        }
        return text
    }

    /// "direct 203.0.113.7:51820", "relays p1 > p2", "relays p1 > p2 while punching".
    static func via(_ path: PathView, names: [String: String]) -> String {
        switch path.kind {
        case "direct": return path.endpoint.map { "direct \($0)" } ?? "direct"
        case "relayed", "punching":
            let relays = path.via.isEmpty ? "relays" : "relays \(PathText.relays(path.via, names: names))"
            return path.kind == "punching" ? relays + " while punching" : relays
        default: return path.kind
        }
    }

    /// The member as a person knows it: its alias, else its short id.
    static func name(_ result: PingResult) -> String {
        result.alias ?? result.shortId ?? String(result.member.prefix(8))
    }

    /// Two significant digits or so: 0.84, 2.1, 153.
    static func milliseconds(_ value: Double) -> String {
        if value < 1 { return fixed(value, digits: 2) }
        if value < 100 { return fixed(value, digits: 1) }
        return fixed(value, digits: 0)
    }

    /// `value` rounded to `digits` decimals, as printf's `%.Nf` prints it (no Foundation).
    static func fixed(_ value: Double, digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (abs(value) * scale).rounded(.toNearestOrEven)
        guard scaled.isFinite, scaled < 1e18 else { return "\(value)" }
        let units = UInt64(scaled)
        let whole = units / UInt64(scale)
        let sign = value < 0 && units > 0 ? "-" : ""
        guard digits > 0 else { return "\(sign)\(whole)" }
        let fraction = String(units % UInt64(scale))
        return "\(sign)\(whole)." + String(repeating: "0", count: digits - fraction.count) + fraction
    }
}
