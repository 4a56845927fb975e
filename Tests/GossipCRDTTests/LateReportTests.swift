import Testing

@testable import GossipCRDT

/// A report reaches the leader at the end of the epoch it is about, plus the network's delay,
/// and under load that delay is hundreds of milliseconds. Whenever it lands, the member it names
/// gets a whole interval of probes before the leader may prune it, and a crashed member is
/// still pruned in time.
@Suite struct LateReportTests {
    /// A settled mesh of 16 honest members (most of which the leader does not hand the heartbeat
    /// to itself, so it has no answer of theirs that would make it ignore the report) whose
    /// every message takes up to `latencyMillis` one way.
    func settled(latencyMillis: UInt64) -> HostileMesh {
        var options = HostileMesh.Options()
        options.honest = 16
        options.latencyMillis = latencyMillis
        var mesh = HostileMesh(options: options)
        mesh.advance(by: .seconds(4))
        return mesh
    }

    /// Steps until the leader opens its next epoch, then `offset` into it.
    func enterEpoch(_ mesh: inout HostileMesh, leader: NodeID, offset: Duration) -> UInt64 {
        let before = mesh.engine(leader).epoch!.number
        while mesh.engine(leader).epoch!.number == before { mesh.advance(by: .milliseconds(10)) }
        mesh.advance(by: offset)
        return mesh.engine(leader).epoch!.number
    }

    /// The attacker reports every honest member as having missed the previous epoch (the
    /// oldest a report may name), at several points of the epoch, the last one just before the
    /// next epoch opens. Round trips of up to 800 ms leave members under a second to answer the
    /// leader's probes; before reports were dated in time, one landing late left them a few
    /// hundred milliseconds and they were pruned.
    @Test(arguments: [0, 500, 950])
    func aReportLandingLateInAnEpochPrunesNobody(offsetMillis: Int) {
        var mesh = settled(latencyMillis: 400)
        let leader = mesh.honest[0]
        #expect(mesh.honestLeader == leader)
        let number = enterEpoch(&mesh, leader: leader, offset: .milliseconds(offsetMillis))
        let stamp = EpochStamp(leader: leader, number: number.subtracting(saturating: 1))
        mesh.inject(.report(Report(epoch: stamp, missing: Array(mesh.honest.dropFirst()))), to: leader)
        mesh.advance(by: mesh.pruneDeadline)
        #expect(mesh.violations() == [])
        for id in mesh.alive {
            for other in mesh.honest { #expect(mesh.engine(id).store.isPresent(other)) }
        }
        #expect(mesh.honestLeader == leader)
    }

    /// The interval of probes a late report buys is bounded: a member that crashed is pruned by
    /// every live member within the usual deadline at the same latency, wherever in the epoch
    /// the crash falls.
    @Test(arguments: [0, 400, 800])
    func aCrashedMemberIsStillPrunedInTimeAtHighLatency(offsetMillis: Int) {
        var mesh = settled(latencyMillis: 400)
        let leader = mesh.honest[0]
        _ = enterEpoch(&mesh, leader: leader, offset: .milliseconds(offsetMillis))
        let crashed = mesh.honest[3]
        mesh.crash(crashed)
        mesh.advance(by: mesh.pruneDeadline)
        for id in mesh.alive { #expect(!mesh.engine(id).store.isPresent(crashed)) }
        #expect(mesh.violations() == [])
    }

    /// A leader whose host keeps dropping input unread (it cannot keep up, or is flooded)
    /// forgives the epochs in which it lost input, three at most per member: a crashed member
    /// outlives the usual deadline, and is still pruned by everyone three epochs after it.
    @Test func inputLossDelaysAPruneByThreeEpochsAtMost() {
        var mesh = settled(latencyMillis: 20)
        let leader = mesh.honest[0]
        let crashed = mesh.honest[3]
        mesh.crash(crashed)
        var prunedAt: Duration?
        for step in 1...100 {
            mesh.engines[leader]!.noteInputLoss()
            mesh.advance(by: .milliseconds(100))
            if prunedAt == nil, mesh.alive.allSatisfy({ !mesh.engine($0).store.isPresent(crashed) }) {
                prunedAt = .milliseconds(100 * step)
            }
        }
        #expect(prunedAt != nil)
        if let prunedAt {
            #expect(prunedAt > mesh.config.heartbeatInterval * 5)
            #expect(prunedAt <= mesh.pruneDeadline + mesh.config.heartbeatInterval * 3)
        }
        #expect(mesh.violations() == [])
    }
}
