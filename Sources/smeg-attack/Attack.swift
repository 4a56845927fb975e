import ArgumentParser
import Foundation
import GossipCRDT
import MeshCore

/// A member that holds the mesh secret and misbehaves on purpose (a stolen laptop). Each subcommand is one
/// attack against real daemons on loopback; scripts/hostile-test.sh runs them and then checks that
/// the mesh refused, counted and survived each one. Every subcommand prints one JSON line per step
/// saying what it sent (and what came back), so a failing case can be read without a debugger.
@main
struct Attack: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smeg-attack",
        abstract: "Hostile-member attacks against smegd daemons on loopback (test tool).",
        subcommands: [
            EpochOverflow.self, HugeTombstone.self, ForgeAcks.self, Sybils.self, Replay.self, Amplify.self,
            SenderFlood.self, MintToken.self, BadRecord.self, ReplayPruned.self, ForgeReports.self,
        ])
}

/// What every attack needs: the mesh and its secret (from a member's mesh.json, as a stolen
/// laptop holds it), the daemon to hit, and who the attacker is.
struct AttackOptions: ParsableArguments {
    @Option(help: "The mesh.json of the member the attacker runs (it holds the mesh id and secret).")
    var meshFile: String

    @Option(help: "Gossip address of the targeted daemon, HOST:PORT on 127.0.0.0/8.")
    var to: String

    @Option(help: "The targeted daemon's WireGuard public key (base64); frame version 2 seals to it.")
    var toKey: String?

    @Option(help: "The attacker's identity.key (a member it runs); a fresh identity when omitted.")
    var identity: String?

    @Option(help: "Local address to send from (any of 127.0.0.0/8).")
    var from = "127.0.0.1"

    func context() throws -> AttackContext {
        let (mesh, secret) = try MeshFile.read(meshFile)
        let me = try identity.map { try KeyFile.load(from: $0) } ?? NodeIdentity.generate()
        let targetID = try toKey.map { key in
            guard let parsed = WireGuardPublicKey(base64: key) else { throw AttackFailure("bad --to-key \(key)") }
            return parsed.nodeID
        }
        let parts = to.split(separator: ":")
        guard parts.count == 2, let ip = IPAddress(String(parts[0])), let port = UInt16(parts[1]) else {
            throw AttackFailure("expected HOST:PORT: \(to)")
        }
        return AttackContext(
            wire: AttackWire(mesh: mesh, secret: secret, attacker: me, destination: PeerAddress(ip: ip, port: port)),
            target: try UDPPort.parse(to), targetID: targetID,
            port: try UDPPort(host: from))
    }
}

/// The state one attack run shares between its steps.
struct AttackContext {
    let wire: AttackWire
    let target: sockaddr_in
    let targetID: NodeID?
    let port: UDPPort

    var me: NodeIdentity { wire.attacker }
    var mesh: MeshID { wire.mesh }

    /// Sends `message` honestly signed as `identity` (the attacker by default).
    func send(_ message: GossipMessage, as identity: NodeIdentity? = nil, to address: sockaddr_in? = nil) throws {
        port.send(try wire.seal(message: message, from: identity ?? me, to: targetID), to: address ?? target)
    }

    /// Sends `message` with a sender the attacker holds no key for.
    func forge(_ message: GossipMessage, claiming sender: NodeID) throws {
        port.send(try wire.forge(message: message, claimedSender: sender, to: targetID), to: target)
    }

    /// Collects replies, and reports their bytes and message kinds.
    func replies(quietFor milliseconds: Int32 = 300) -> [String: Any] {
        let frames = port.receiveAll(quietFor: milliseconds)
        let kinds = frames.map { wire.open($0)?.message.kind ?? "unopened" }
        return ["replyFrames": frames.count, "replyBytes": frames.reduce(0) { $0 + $1.count }, "replyKinds": kinds]
    }
}

/// One JSON object per line on standard output, keys sorted so that runs diff cleanly.
func report(_ fields: [String: Any]) {
    guard let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]) else { return }
    print(String(decoding: data, as: UTF8.self))
}

extension NodeID {
    /// Base64 of the WireGuard key, as `smegctl get --json` prints member ids.
    var base64: String { WireGuardPublicKey(nodeID: self).base64 }
}

/// Parses member keys as `smegctl get --json` prints them.
func nodeIDs(_ keys: [String]) throws -> [NodeID] {
    try keys.map { key in
        guard let parsed = WireGuardPublicKey(base64: key) else { throw AttackFailure("not a member key: \(key)") }
        return parsed.nodeID
    }
}

/// A member's mesh.json, read for the mesh id, secret and bootstrap endpoints.
enum MeshFile {
    static func read(_ path: String) throws -> (MeshID, MeshSecret) {
        let stored = try load(path)
        guard let mesh = MeshID(stored.meshId), let data = Data(base64Encoded: stored.secret),
            let secret = MeshSecret(bytes: Array(data))
        else { throw AttackFailure("\(path): no usable mesh id and secret") }
        return (mesh, secret)
    }

    static func load(_ path: String) throws -> PersistedMesh {
        try JSONDecoder().decode(PersistedMesh.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }
}
