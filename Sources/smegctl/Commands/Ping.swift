import ArgumentParser
import MeshAPI
import MeshControl

/// `smegctl ping`: is a member reachable over the mesh right now, how, and how fast.
struct Ping: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Probe a member over the mesh: the path this node uses for it and round-trip times.",
        discussion: """
            Sends probes to MEMBER's overlay address, where its smegd answers them, so they \
            take whatever WireGuard path this node uses for that member, as `tailscale ping` \
            does: a session of its own ("direct", with the endpoint WireGuard sends to) or \
            relays (the peers in between, "relays p1 > p2"). A reply means the tunnel carries \
            packets both ways and the member's daemon is running; it needs no ICMP and no \
            firewall rule. The round-trip time is measured by this node's smegd, from sending a \
            probe to reading its answer. With smegd in control-plane-only mode there are no \
            tunnels, so no probe is answered.

            MEMBER is an alias, a short id or WireGuard key (or a unique start of one, as \
            `smegctl get MESH` prints them), or an overlay address (IPv6 or IPv4).

            Exit status: 0 when at least one probe was answered, 1 when none was (or on any \
            other error), 2 for bad arguments.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "Mesh id or name.")
    var mesh: String

    @Argument(help: "The member: alias, short id, key, or overlay address.")
    var member: String

    @Option(help: "How many probes to send (\(PingRequest.counts.lowerBound) to \(PingRequest.counts.upperBound)).")
    var count = PingRequest.defaultCount

    @Option(
        help: ArgumentHelp(
            "Milliseconds between probes (\(PingRequest.intervals.lowerBound) to \(PingRequest.intervals.upperBound)).",
            valueName: "ms"))
    var interval = PingRequest.defaultInterval

    @Option(
        help: ArgumentHelp(
            "Milliseconds to wait for each answer (\(PingRequest.timeouts.lowerBound) to \(PingRequest.timeouts.upperBound)).",
            valueName: "ms"))
    var timeout = PingRequest.defaultTimeout

    var request: PingRequest {
        PingRequest(member: member, count: count, intervalMilliseconds: interval, timeoutMilliseconds: timeout)
    }

    /// The daemon checks the same bounds; checking here too makes a typo a usage error (2).
    func validate() throws {
        do {
            _ = try request.plan()
        } catch {
            let flags = ["count": "--count", "intervalMilliseconds": "--interval", "timeoutMilliseconds": "--timeout"]
            throw ValidationError(error.message(calling: flags[error.field] ?? error.field))
        }
    }

    func run() throws {
        let plan = try request.plan()
        // The answer comes when the last probe is answered or timed out: wait that long, and more.
        let client = ControlClient(
            socketPath: global.socketPath, timeoutSeconds: Int(plan.longest.components.seconds) + 11)
        let result = try client.call(ControlAPI.ping(mesh, request))
        if output.json {
            try Output.json(result)
        } else {
            // Relays are named by short id; the members give their aliases.
            let members = result.path.via.isEmpty ? [] : (try? global.client.call(ControlAPI.mesh(mesh)))?.members
            let names = PathText.names(members ?? [])
            for line in PingText.lines(result, names: names, timeoutMilliseconds: timeout) { print(line) }
            print(PingText.summary(result))
        }
        if !result.replies.contains(where: { $0 != nil }) { throw ExitCode.failure }
    }
}
