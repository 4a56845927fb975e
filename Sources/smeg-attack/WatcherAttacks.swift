import ArgumentParser
import Foundation
import GossipCRDT
import MeshCore

/// A member that lies about the others as a watcher would: it reports every honest member
/// missing to the leader (for the current, the previous and a future epoch), hands the
/// leader's own heartbeat on with the whole mesh as its scope, and asks for entries by made-up
/// paths. Reports only make the leader probe, so nobody honest may be pruned, and a member
/// killed meanwhile must still be pruned on time.
struct ForgeReports: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forge-reports",
        abstract: "Reports of live members, scoped heartbeats and versions requests, as a member, to the leader.")

    @OptionGroup var options: AttackOptions

    @Option(parsing: .upToNextOption, help: "Members (base64 keys) to report missing.")
    var members: [String] = []

    @Option(help: "How long to keep lying.")
    var seconds: Double = 8

    func run() throws {
        let context = try options.context()
        guard let leader = context.targetID else { throw ValidationError("--to-key (the leader's key) is required") }
        let reported = try nodeIDs(members)
        let deadline = Date().addingTimeInterval(seconds)
        var rounds = 0
        var current: UInt64 = 0
        var scoped = 0
        while Date() < deadline {
            let learnt = learnEpoch(context, leader: leader)
            current = max(current, learnt.number ?? current)
            for number in [current, current.subtracting(saturating: 1), current.adding(saturating: 1000)] {
                let stamp = EpochStamp(leader: leader, number: number)
                try context.send(.report(Report(epoch: stamp, missing: reported)))
            }
            if var heartbeat = learnt.heartbeat {
                heartbeat.scope = .everything
                try context.send(.heartbeat(heartbeat))
                scoped += 1
            }
            let paths = (0..<GossipLimits.maxReported).map { _ in
                EntryVersion(path: UInt64.random(in: 0...UInt64.max), clock: 0, hash: 0)
            }
            try context.send(.versions(Versions(level: 3, buckets: [], entries: paths, isRequest: true)))
            rounds += 1
            Thread.sleep(forTimeInterval: 0.1)
        }
        report([
            "attack": "forge-reports", "leader": leader.base64, "reported": reported.map(\.base64),
            "rounds": rounds, "scopedHeartbeats": scoped, "lastEpoch": String(current),
            "sentFrames": context.port.sentFrames, "sentBytes": context.port.sentBytes,
        ])
    }
}
