import ArgumentParser
import GossipCRDT

/// Runs many instances of the GossipCRDT protocol over a simulated network.
@main
struct SimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smeg-sim",
        abstract: "Simulate the smegmesh membership protocol with many nodes in one process.",
        discussion: """
            Each run starts from a converged mesh of --nodes members, measures steady-state traffic, \
            then a join, then a crash (and a partition with --partition). Runs are deterministic per \
            seed; --seeds runs several and reports percentiles over them. See docs/gossip.md.
            """
    )

    @Option(help: "Members in the mesh before the join.") var nodes = 1000
    @Option(help: "Peers per gossip round while there is news.") var fanout = 3
    @Option(help: "Number of runs, with seeds --seed, --seed+1, ...") var seeds = 1
    @Option(help: "Seed of the first run.") var seed: UInt64 = 1
    @Option(help: "Probability that a message is lost (0...1).") var loss = 0.0
    @Option(help: "Gossip round length in milliseconds.") var syncInterval = 200
    @Option(help: "Heartbeat epoch length in milliseconds.") var heartbeatInterval = 1000
    @Option(help: "Leader's acknowledgement window in milliseconds.") var ackWindow = 300
    @Option(help: "Minimum one-way latency in milliseconds.") var latencyMin = 5
    @Option(help: "Maximum one-way latency in milliseconds.") var latencyMax = 50
    @Option(help: "Bytes of each member's opaque record payload.") var payloadBytes = 200
    @Option(help: "Seconds of steady state to measure traffic over.") var steadySeconds = 10
    @Option(help: "Seconds to keep running after the last phase (tombstones compact after 60 epochs).")
    var settleSeconds = 3
    @Option(help: "Split the mesh in two halves for this many seconds, then heal it.") var partition: Int?
    @Option(help: "Bootstrap peers given to the newcomer.") var bootstrapPeers = 1
    @Option(help: "Instead of the phases: a mesh of one member that this many members join at once.")
    var massJoin: Int?
    @Option(help: "With --mass-join: milliseconds over which the joins are spread.") var massJoinSpread = 200
    @Flag(help: "Crash the leader instead of an ordinary member (failover).") var crashLeader = false
    @Flag(help: "Print JSON instead of a table.") var json = false

    func validate() throws {
        guard nodes >= 2 else { throw ValidationError("--nodes must be at least 2") }
        guard fanout >= 1 else { throw ValidationError("--fanout must be at least 1") }
        guard seeds >= 1 else { throw ValidationError("--seeds must be at least 1") }
        guard (0.0..<1.0).contains(loss) else { throw ValidationError("--loss must be in [0, 1)") }
        guard syncInterval > 0, heartbeatInterval > 0, ackWindow > 0 else {
            throw ValidationError("intervals must be positive")
        }
        if let massJoin, !(1...5000).contains(massJoin) {
            throw ValidationError("--mass-join must be in 1...5000")
        }
        guard massJoinSpread >= 0 else { throw ValidationError("--mass-join-spread must not be negative") }
        guard latencyMin >= 0, latencyMax >= latencyMin else {
            throw ValidationError("need 0 <= --latency-min <= --latency-max")
        }
    }

    func run() throws {
        var config = SimulationConfig()
        config.nodes = nodes
        config.loss = loss
        config.gossip.fanout = fanout
        config.gossip.syncInterval = .milliseconds(syncInterval)
        config.gossip.heartbeatInterval = .milliseconds(heartbeatInterval)
        config.gossip.ackWindow = .milliseconds(ackWindow)
        config.latencyMin = .milliseconds(latencyMin)
        config.latencyMax = .milliseconds(latencyMax)
        config.payloadBytes = payloadBytes
        config.steadyWindow = .seconds(steadySeconds)
        config.partition = partition.map { .seconds($0) }
        config.settle = .seconds(settleSeconds)
        config.bootstrapPeers = bootstrapPeers
        config.crashLeader = crashLeader

        if let massJoin {
            for offset in 0..<UInt64(seeds) {
                config.seed = seed &+ offset
                var simulator = Simulator(config: config)
                let report = simulator.runMassJoin(joiners: massJoin, spread: .milliseconds(massJoinSpread))
                let settled = report.settledSeconds.map { format($0) + " s" } ?? "not settled"
                print(
                    "seed \(report.seed): \(massJoin) joiners settled: \(settled); prunes \(report.prunes), "
                        + "leader changes \(report.leaderChanges), leaders at the end \(report.leaders), "
                        + "converged \(report.converged)")
            }
            return
        }
        let clock = ContinuousClock()
        let started = clock.now
        var reports: [SimulationReport] = []
        for offset in 0..<UInt64(seeds) {
            config.seed = seed &+ offset
            var simulator = Simulator(config: config)
            reports.append(simulator.run())
        }
        let wall = (clock.now - started).seconds
        let summary = Summary(reports: reports, wallSeconds: wall)
        print(json ? summary.json(config: config) : summary.table(config: config))
    }
}
