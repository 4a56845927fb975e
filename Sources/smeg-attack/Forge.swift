import Foundation
import GossipCRDT
import MeshCore

/// Store entries the attacker can make: records it really signs (its own, its sybils'), records
/// whose content breaks the rules but whose signature is valid, and tombstones it signs itself.
enum Forge {
    /// Gossip and WireGuard ports that sybil records claim; no endpoint is published, so honest
    /// daemons have nowhere to send to them and the attack costs the attacker nothing to sustain.
    static let claimedPort: UInt16 = 9

    /// A record signed by `identity`. `policy` is what the attacker pretends the mesh allows: the
    /// signing call checks content against it, receivers check against the mesh's real policy.
    static func record(
        _ identity: NodeIdentity, mesh: MeshID, version: UInt64, alias: String = "", endpoints: [Endpoint] = [],
        routes: [AdvertisedRoute] = [], policy: RoutePolicy = .default, admittedBy owner: NodeIdentity? = nil
    ) throws -> MemberRecord {
        var record = NodeRecord(
            identity: identity, mesh: mesh, endpoints: endpoints, wireGuardPort: claimedPort, gossipPort: claimedPort,
            version: version)
        record.alias = alias
        record.routes = routes
        if let owner {
            record.admission =
                OwnerStatement.sign(
                    .admit(Admission(member: identity.signingKey, role: .member, invite: nil)), by: owner,
                    at: UInt64(Date().timeIntervalSince1970 * 1000), mesh: mesh
                ).bytes
        }
        let signed = try SignedNodeRecord.sign(record, identity: identity, mesh: mesh, policy: policy)
        return MemberRecord(owner: identity.nodeID, version: version, payload: signed.encoded)
    }

    /// Placeholders that `record` accepts and `patched` then overwrites in the signed body, since
    /// `SignedNodeRecord.sign` refuses to sign an unusable endpoint (as it should).
    static let placeholderV4 = Endpoint("203.0.113.77:51234")!
    static let placeholderV6 = Endpoint("[2001:db8::77]:51234")!

    /// The record of `identity` with its one endpoint replaced by `address` (4 or 16 bytes) and
    /// signed again over the protocol's record signature input (docs/protocol.md, "Node record").
    static func recordWithEndpoint(
        _ identity: NodeIdentity, mesh: MeshID, version: UInt64, address: [UInt8]
    ) throws
        -> MemberRecord
    {
        let placeholder = address.count == 4 ? placeholderV4 : placeholderV6
        let honest = try record(identity, mesh: mesh, version: version, endpoints: [placeholder])
        var body = Array(honest.payload.dropLast(64))
        let needle: [UInt8] =
            address.count == 4
            ? [203, 0, 113, 77] : [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [0x77]
        guard let start = firstIndex(of: needle, in: body) else { throw AttackFailure("placeholder not found") }
        body.replaceSubrange(start..<(start + needle.count), with: address)
        let signature = identity.sign(recordSignatureDomain + mesh.bytes + body)
        let payload = body + signature
        _ = try SignedNodeRecord.decode(payload)  // still well-formed: only the rules should refuse it
        return MemberRecord(owner: identity.nodeID, version: version, payload: payload)
    }

    /// The domain string of record signatures, from docs/protocol.md.
    static let recordSignatureDomain: [UInt8] = Array("smegmesh/v1/node-record".utf8) + [0]

    static func tombstone(of member: NodeID, version: UInt64, by identity: NodeIdentity, mesh: MeshID) -> Tombstone {
        TombstoneSigning.make(member: member, version: version, kind: .pruned, identity: identity, mesh: mesh)
    }

    /// A digest whose summary cannot match the receiver's, so that it is always processed fully.
    static func digest(rumors: Updates = Updates(), epoch: EpochStamp? = nil, count: UInt32 = 1) -> GossipMessage {
        .digest(Digest(summary: StoreSummary(hash: 0x5eed, count: count), epoch: epoch, rumors: rumors))
    }

    /// A delta that asks for nothing back and carries `updates`.
    static func delta(_ updates: Updates, wantsReply: Bool = false) -> GossipMessage {
        .delta(Delta(level: 0, buckets: wantsReply ? [0] : [], updates: updates, wantsReply: wantsReply))
    }

    private static func firstIndex(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        return (0...(haystack.count - needle.count)).first { haystack[$0..<($0 + needle.count)].elementsEqual(needle) }
    }
}
