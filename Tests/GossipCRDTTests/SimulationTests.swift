import GossipCRDT
import Testing

/// The whole protocol at a few hundred nodes, in simulated time: `make test` guards the bars.
@Suite struct SimulationTests {
    func run(nodes: Int, seed: UInt64, loss: Double, crashLeader: Bool = false) -> SimulationReport {
        var config = SimulationConfig()
        config.nodes = nodes
        config.seed = seed
        config.loss = loss
        config.steadyWindow = .seconds(3)
        config.crashLeader = crashLeader
        var simulator = Simulator(config: config)
        return simulator.run()
    }

    @Test(arguments: [(1 as UInt64, 0.0), (2, 0.1), (3, 0.1)])
    func joinsSpreadAndCrashesArePrunedWithoutFalsePrunes(seed: UInt64, loss: Double) {
        let report = run(nodes: 200, seed: seed, loss: loss)
        let joinRounds = report.joinRounds[2]
        #expect(joinRounds != nil && joinRounds! <= 12)
        let prune = report.pruneSeconds[1]
        #expect(prune != nil && prune! <= report.pruneBarSeconds)
        #expect(report.falsePrunes == 0)
        #expect(report.converged)
        #expect(report.steadyBytesPerNodeMean <= 2048)
    }

    @Test func leaderCrashFailsOverAndIsPruned() {
        let report = run(nodes: 100, seed: 4, loss: 0.05, crashLeader: true)
        #expect(report.pruneSeconds[1] != nil)
        #expect(report.falsePrunes == 0)
        #expect(report.converged)
    }

    @Test func sameSeedSameNumbers() {
        let a = run(nodes: 60, seed: 9, loss: 0.1)
        let b = run(nodes: 60, seed: 9, loss: 0.1)
        #expect(a.joinSeconds == b.joinSeconds)
        #expect(a.pruneSeconds == b.pruneSeconds)
        #expect(a.eventsProcessed == b.eventsProcessed)
    }

    @Test func aPartitionHeals() {
        var config = SimulationConfig()
        config.nodes = 60
        config.seed = 5
        config.steadyWindow = .seconds(1)
        config.partition = .seconds(8)
        var simulator = Simulator(config: config)
        let report = simulator.run()
        #expect(report.partitionHealSeconds != nil)
        #expect(report.converged)
    }

    /// 98 members join through one member at once, as a fleet rolled out with one token would,
    /// over a network slow enough to stand for two saturated cores (up to 500 ms one way) and
    /// lossy: every one is admitted and nobody is pruned. Before a report bought a whole
    /// interval of probes, such runs pruned hundreds of honest joiners and did not converge.
    @Test(arguments: [1 as UInt64, 2])
    func aMassJoinOverASlowLossyNetworkPrunesNobody(seed: UInt64) {
        var config = SimulationConfig()
        config.seed = seed
        config.loss = 0.1
        config.latencyMax = .milliseconds(500)
        config.settle = .seconds(10)
        var simulator = Simulator(config: config)
        let report = simulator.runMassJoin(joiners: 98)
        #expect(report.settledSeconds != nil && report.settledSeconds! <= 10)
        #expect(report.prunes == 0)
        #expect(report.converged)
        #expect(report.leaders == 1)
    }
}
