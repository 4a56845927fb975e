import Glibc
import MeshCore
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Turns on IP forwarding when this node starts relaying for others (a peer with clients, an
/// exit, a bridge), and only then: forwarding changes how a host treats router advertisements,
/// so a node that only talks for itself is left exactly as the operator configured it.
///
/// It is never turned off again: smegd cannot know whether something else on the host came to
/// rely on it, and flapping it would break that silently.
enum Forwarding {
    private static let done = Mutex<Set<String>>([])

    /// Enables forwarding for the families asked for; logs what it changed, once.
    static func ensure(ipv6: Bool, ipv4: Bool, log: LogSink) {
        if ipv6 { enableIPv6(log: log) }
        if ipv4 { enable(path: "/proc/sys/net/ipv4/ip_forward", family: "IPv4", log: log) }
    }

    /// With `all.forwarding` on, an interface whose `accept_ra` is 1 stops taking router
    /// advertisements, and a host configured by SLAAC would lose its IPv6 default route. Such
    /// interfaces move to `accept_ra = 2` (accept even when forwarding) first.
    private static func enableIPv6(log: LogSink) {
        guard !already("IPv6") else { return }
        guard read("/proc/sys/net/ipv6/conf/all/forwarding") != "1" else { return }
        let interfaces = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/sys/net/ipv6/conf")) ?? []
        for name in interfaces.sorted()
        where name != "all" && name != "default" && name != "lo" && !name.hasPrefix(InterfaceName.prefix) {
            let path = "/proc/sys/net/ipv6/conf/\(name)/accept_ra"
            if read(path) == "1", write(path, "2") {
                log(.notice, "set \(name) accept_ra=2 so it keeps router advertisements with forwarding on")
            }
        }
        enable(path: "/proc/sys/net/ipv6/conf/all/forwarding", family: "IPv6", log: log)
    }

    private static func enable(path: String, family: String, log: LogSink) {
        guard !already(path) else { return }
        if read(path) == "1" { return }
        if write(path, "1") {
            log(.notice, "enabled \(family) forwarding (\(path)): this node relays for other members")
        } else {
            log(
                .error,
                "cannot enable \(family) forwarding (\(path)); members that route through this node cannot reach each other until it is on"
            )
        }
    }

    private static func already(_ key: String) -> Bool {
        done.withLock { !$0.insert(key).inserted }
    }

    private static func read(_ path: String) -> String? {
        (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingWhitespace()
    }

    private static func write(_ path: String, _ value: String) -> Bool {
        (try? (value + "\n").write(toFile: path, atomically: false, encoding: .utf8)) != nil
    }
}
