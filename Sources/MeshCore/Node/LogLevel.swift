/// How much a log line from a core matters, in the levels syslog and swift-log share; the shell
/// maps it to its logger's.
public enum LogLevel: Int, Comparable, Sendable {
    case debug, info, notice, warning, error

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}
