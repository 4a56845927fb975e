import ArgumentParser
import Foundation
import GossipCRDT
import MeshCore

/// A removal of a live member, signed by the attacker rather than by the leader: with a huge
/// version it would pin the victim out of the mesh for good, with a plausible one it is an
/// ordinary-looking prune that only the issuer check can refuse.
struct HugeTombstone: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "huge-tombstone", abstract: "Pruned tombstones for a live member, issued by a non-leader.")

    @OptionGroup var options: AttackOptions

    @Option(help: "The live member to remove (base64 key).")
    var victim: String

    @Option(help: "The victim's current record version (the plausible tombstone uses one more).")
    var victimVersion: UInt64 = 1

    func run() throws {
        let context = try options.context()
        let target = try nodeIDs([victim])[0]
        for version in [victimVersion + 1, UInt64.max] {
            let removal = Forge.tombstone(of: target, version: version, by: context.me, mesh: context.mesh)
            let updates = Updates(tombstones: [removal])
            try context.send(Forge.digest(rumors: updates))
            try context.send(Forge.delta(updates))
            var line = context.replies(quietFor: 200)
            line["attack"] = "huge-tombstone"
            line["victim"] = victim
            line["version"] = String(version)
            line["issuer"] = context.me.nodeID.base64
            line["sent"] = ["digest", "delta"]
            report(line)
        }
    }
}

/// Thousands of members out of nothing: every record is genuinely self-signed, so only a bound on
/// admission (not a signature check) can refuse them.
struct Sybils: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sybils", abstract: "Fresh identities with valid self-signed records, many per delta.")

    @OptionGroup var options: AttackOptions

    @Option(help: "How many identities to make.")
    var count = 5000

    @Option(help: "Records per delta (about 210 bytes each; 300 fill most of a datagram).")
    var perFrame = 280

    @Option(help: "Also write the records as a members.json-shaped file (a state fixture).")
    var save: String?

    @Option(
        help:
            "An owner's identity.key: each record then carries an admission it signed (a big mesh for a fixture, not an attack)."
    )
    var admitWith: String?

    func run() throws {
        let context = try options.context()
        let owner = try admitWith.map { try KeyFile.load(from: $0) }
        var records: [MemberRecord] = []
        records.reserveCapacity(count)
        for _ in 0..<count {
            records.append(
                try Forge.record(try NodeIdentity.generate(), mesh: context.mesh, version: 1, admittedBy: owner))
        }
        var frames = 0
        for start in stride(from: 0, to: records.count, by: perFrame) {
            let batch = Array(records[start..<min(start + perFrame, records.count)])
            try context.send(Forge.delta(Updates(records: batch)))
            frames += 1
        }
        let replies = context.replies(quietFor: 300)
        if let save {
            let file: [String: Any] = [
                "format": 1, "records": records.map { Data($0.payload).base64EncodedString() }, "lastAddresses": [:],
            ]
            try JSONSerialization.data(withJSONObject: file).write(to: URL(fileURLWithPath: save))
        }
        report([
            "attack": "sybils", "identities": count, "datagrams": frames, "sentBytes": context.port.sentBytes,
            "replyBytes": replies["replyBytes"] ?? 0,
        ])
    }
}

/// Records that are validly signed by their owner but break the content rules: routes the mesh
/// policy does not allow, endpoints nobody can use, and aliases that collide with other members'.
struct BadRecord: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bad-record", abstract: "Signed records with forbidden routes, endpoints and aliases.")

    @OptionGroup var options: AttackOptions

    @Option(help: "Another member's alias, to claim as well.")
    var aliasOf: String?

    @Option(help: "Another member's short id (its NodeID description), to claim as an alias.")
    var shortIdOf: String?

    func run() throws {
        let context = try options.context()
        let mesh = context.mesh
        let permissive = RoutePolicy(allowExitNodes: true, allowedPrefixes: [IPPrefix("8.8.8.8/32")!])
        var variants: [(String, (NodeIdentity) throws -> MemberRecord)] = [
            (
                "routes ::/0 and 8.8.8.8/32",
                {
                    try Forge.record(
                        $0, mesh: mesh, version: 1,
                        routes: [
                            AdvertisedRoute(prefix: IPPrefix("::/0")!),
                            AdvertisedRoute(prefix: IPPrefix("8.8.8.8/32")!),
                        ],
                        policy: permissive)
                }
            ),
            (
                "endpoint 127.0.0.1",
                { try Forge.record($0, mesh: mesh, version: 1, endpoints: [Endpoint("127.0.0.1:51820")!]) }
            ),
            ("endpoint [::1]", { try Forge.record($0, mesh: mesh, version: 1, endpoints: [Endpoint("[::1]:51820")!]) }),
            (
                "endpoint 224.0.0.251",
                { try Forge.recordWithEndpoint($0, mesh: mesh, version: 1, address: [224, 0, 0, 251]) }
            ),
            (
                "endpoint [ff02::1]",
                {
                    try Forge.recordWithEndpoint(
                        $0, mesh: mesh, version: 1, address: [0xff, 0x02] + [UInt8](repeating: 0, count: 13) + [1])
                }
            ),
            ("endpoint 0.0.0.0", { try Forge.recordWithEndpoint($0, mesh: mesh, version: 1, address: [0, 0, 0, 0]) }),
            (
                "endpoint [::]",
                { try Forge.recordWithEndpoint($0, mesh: mesh, version: 1, address: [UInt8](repeating: 0, count: 16)) }
            ),
        ]
        if let aliasOf {
            variants.append(("alias \(aliasOf)", { try Forge.record($0, mesh: mesh, version: 1, alias: aliasOf) }))
        }
        if let shortIdOf {
            variants.append(
                ("alias \(shortIdOf) (a short id)", { try Forge.record($0, mesh: mesh, version: 1, alias: shortIdOf) }))
        }
        for (name, make) in variants {
            let owner = try NodeIdentity.generate()
            let record = try make(owner)
            try context.send(Forge.digest(rumors: Updates(records: [record])), as: owner)
            var line = context.replies(quietFor: 150)
            line["attack"] = "bad-record"
            line["variant"] = name
            line["member"] = owner.nodeID.base64
            line["shortId"] = owner.nodeID.description
            report(line)
        }
    }
}

/// The record a pruned member had, gossiped again after every daemon restarted (and so after they
/// may have forgotten the removal): it must not bring the member back.
struct ReplayPruned: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay-pruned", abstract: "Re-send a pruned member's old record after a restart.")

    @OptionGroup var options: AttackOptions

    @Option(help: "File holding the old record's payload in base64 (one line, as members.json stores it).")
    var record: String

    func run() throws {
        let context = try options.context()
        let text = try String(contentsOfFile: record, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let data = Data(base64Encoded: text) else { throw AttackFailure("\(record) is not base64") }
        let signed = try SignedNodeRecord.decode(Array(data))
        let old = MemberRecord(
            owner: signed.record.wireGuardKey.nodeID, version: signed.record.version, payload: Array(data))
        for _ in 0..<3 {
            try context.send(Forge.digest(rumors: Updates(records: [old])))
            try context.send(Forge.delta(Updates(records: [old])))
            Thread.sleep(forTimeInterval: 0.3)
        }
        var line = context.replies(quietFor: 200)
        line["attack"] = "replay-pruned"
        line["member"] = old.owner.base64
        line["version"] = String(old.version)
        report(line)
    }
}
