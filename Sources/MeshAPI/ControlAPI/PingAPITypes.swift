/// Bodies of `POST /v1/meshes/{mesh}/ping` (`smegctl ping`): probes over the overlay to one
/// member, answered by that member's smegd. Same rules as ControlAPITypes.swift: add fields,
/// never rename them (docs/api.md).
public struct PingRequest: Codable, Sendable, Equatable {
    /// The member: its key, a unique start of it or of its short id, its alias, or one of its
    /// overlay addresses.
    public var member: String
    public var count: Int?
    public var intervalMilliseconds: Int?
    public var timeoutMilliseconds: Int?

    public init(member: String, count: Int? = nil, intervalMilliseconds: Int? = nil, timeoutMilliseconds: Int? = nil) {
        self.member = member
        self.count = count
        self.intervalMilliseconds = intervalMilliseconds
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    /// The bounds of each number and its default. They keep one request under two minutes
    /// (19 intervals of 2 s and a 5 s timeout at most) and its probes few enough that the
    /// node's table of pings in flight (`MeshNode.maxPathWaiters`) holds them.
    public static let counts = 1...20
    public static let intervals = 50...2000
    public static let timeouts = 100...5000
    public static let defaultCount = 3
    public static let defaultInterval = 200
    public static let defaultTimeout = 1000

    /// The request with its defaults filled in and its numbers checked.
    public struct Plan: Sendable, Equatable {
        public var count: Int
        public var interval: Duration
        public var timeout: Duration

        /// How long the whole request may take: the last probe goes out after `count - 1`
        /// intervals and waits up to the timeout.
        public var longest: Duration { interval * (count - 1) + timeout }
    }

    /// The plan, or the sentence that says which number is out of bounds (a 400).
    public func plan() throws(PingRequestError) -> Plan {
        let count = try Self.check(count, "count", Self.counts, Self.defaultCount, unit: "")
        let interval = try Self.check(
            intervalMilliseconds, "intervalMilliseconds", Self.intervals, Self.defaultInterval, unit: " ms")
        let timeout = try Self.check(
            timeoutMilliseconds, "timeoutMilliseconds", Self.timeouts, Self.defaultTimeout, unit: " ms")
        return Plan(count: count, interval: .milliseconds(interval), timeout: .milliseconds(timeout))
    }

    private static func check(
        _ value: Int?, _ field: String, _ range: ClosedRange<Int>, _ fallback: Int, unit: String
    ) throws(PingRequestError) -> Int {
        let value = value ?? fallback
        guard range.contains(value) else {
            throw PingRequestError(field: field, range: range, unit: unit, value: value)
        }
        return value
    }
}

/// A number of a `PingRequest` out of its bounds.
public struct PingRequestError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The JSON field ("count", "intervalMilliseconds", "timeoutMilliseconds").
    public var field: String
    public var range: ClosedRange<Int>
    public var unit: String
    public var value: Int

    /// The sentence with the field called as the reader knows it (smegctl: its flag).
    public func message(calling name: String) -> String {
        "\(name) must be from \(range.lowerBound) to \(range.upperBound)\(unit), not \(value)"
    }

    public var message: String { message(calling: field) }
    public var description: String { message }
}

/// The answer to `POST /v1/meshes/{mesh}/ping`: probes over the overlay to one member.
public struct PingResult: Codable, Sendable, Equatable {
    /// The member's WireGuard key, base64, and its alias when it has one.
    public var member: String
    public var alias: String?
    /// Its short id, to name a member without an alias.
    public var shortId: String?
    public var address: String
    /// How this node reached the member when the first probe went out.
    public var path: PathView
    /// One entry per probe: its round-trip time, or nil when no answer came in time.
    public var replies: [PingReply?]

    public init(member: String, alias: String?, address: String, path: PathView, replies: [PingReply?]) {
        self.member = member
        self.alias = alias
        self.address = address
        self.path = path
        self.replies = replies
    }
}

public struct PingReply: Codable, Sendable, Equatable {
    public var rttMilliseconds: Double

    public init(rttMilliseconds: Double) { self.rttMilliseconds = rttMilliseconds }
}
