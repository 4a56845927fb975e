import MeshCore

/// The zone the DNS responder and the hosts export read, rebuilt from the mesh runtimes at most
/// once per `maximumAge`, and only when asked: an idle daemon builds nothing, a query flood
/// costs one rebuild a second, and a name is at most a second behind the membership.
actor ZoneSnapshots {
    static let maximumAge = Duration.seconds(1)

    private let build: @Sendable () async -> DNSZone
    private let now: @Sendable () -> ContinuousClock.Instant
    private var zone: DNSZone?
    private var builtAt: ContinuousClock.Instant?

    init(
        now: @escaping @Sendable () -> ContinuousClock.Instant = { .now },
        build: @escaping @Sendable () async -> DNSZone
    ) {
        self.now = now
        self.build = build
    }

    /// The last snapshot when it is younger than `maximumAge`, else a new one.
    func current() async -> DNSZone {
        if let zone, let builtAt, now() - builtAt < Self.maximumAge { return zone }
        return await rebuild()
    }

    /// A new snapshot now, for a request that must see the latest membership.
    func rebuild() async -> DNSZone {
        // Stamped before the build awaits, so queries arriving meanwhile keep the previous
        // snapshot instead of starting builds of their own.
        builtAt = now()
        let fresh = await build()
        zone = fresh
        return fresh
    }
}

/// What `GET /v1/hosts` serves.
protocol HostsSource: Sendable {
    func hostsText() async -> String
}

extension ZoneSnapshots: HostsSource {
    func hostsText() async -> String {
        HostsFile.render(await rebuild())
    }
}
