/// Simulated signatures for the hostile-member harness: unforgeable inside a run, without any
/// cryptography in this pure target.
///
/// Each honest member (and the malicious one) gets a random secret. A record, a tombstone or a
/// heartbeat carries a 64-bit keyed hash of its fields under its signer's secret; the validator
/// holds every secret, as MeshCore holds every public key, while a member can compute only its
/// own. Identities nobody registered are the malicious member's sybils: it mints them, so it
/// holds their secrets (derived from its own), exactly as anyone with the mesh secret can mint
/// keys. Guessing a tag from fuzz bytes succeeds with probability 2^-64 per try.
public struct KeyRing: Sendable {
    let secrets: [NodeID: UInt64]
    let sybilSecret: UInt64

    public init(secrets: [NodeID: UInt64], sybilSecret: UInt64) {
        self.secrets = secrets
        self.sybilSecret = sybilSecret
    }

    /// The key behind `id`'s signatures.
    func secret(of id: NodeID) -> UInt64 {
        secrets[id] ?? SplitMix64.mix(sybilSecret ^ id.w0 ^ id.w1.rotated(7) ^ id.w2.rotated(19) ^ id.w3.rotated(41))
    }

    /// Whether `id` is a registered member rather than a minted identity.
    public func isRegistered(_ id: NodeID) -> Bool { secrets[id] != nil }

    static func tag(_ secret: UInt64, _ words: [UInt64]) -> UInt64 {
        var hash = SplitMix64.mix(secret)
        for word in words { hash = SplitMix64.mix(hash ^ word) }
        return hash
    }

    static func bytes(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) } }

    static func word(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        bytes.prefix(8).enumerated().reduce(0) { $0 | UInt64($1.element) << ($1.offset * 8) }
    }

    static func fields(_ record: MemberRecord) -> [UInt64] {
        let content = record.payload.dropFirst(8).reduce(UInt64(0xC0FFEE)) { SplitMix64.mix($0 ^ UInt64($1)) }
        return [1] + record.owner.words + [record.version, UInt64(record.payload.count), content]
    }

    static func fields(_ tombstone: Tombstone) -> [UInt64] {
        [2] + tombstone.member.words + [tombstone.version, UInt64(tombstone.kind.rawValue)] + tombstone.issuer.words
    }

    static func fields(_ heartbeat: Heartbeat) -> [UInt64] {
        [3] + heartbeat.epoch.leader.words + [heartbeat.epoch.number, heartbeat.stableSummary]
    }

    /// A record of `owner` signed with `owner`'s key: the tag, then `content`.
    func signed(owner: NodeID, version: UInt64, content: [UInt8]) -> MemberRecord {
        var record = MemberRecord(owner: owner, version: version, payload: [UInt8](repeating: 0, count: 8) + content)
        record.payload.replaceSubrange(0..<8, with: Self.bytes(Self.tag(secret(of: owner), Self.fields(record))))
        return record
    }

    func proof(for tombstone: Tombstone) -> [UInt8] {
        Self.bytes(Self.tag(secret(of: tombstone.issuer), Self.fields(tombstone)))
    }

    func proof(for heartbeat: Heartbeat) -> [UInt8] {
        Self.bytes(Self.tag(secret(of: heartbeat.epoch.leader), Self.fields(heartbeat)))
    }
}

extension NodeID {
    var words: [UInt64] { [w0, w1, w2, w3] }
}

extension UInt64 {
    fileprivate func rotated(_ by: UInt64) -> UInt64 { self << by | self >> (64 - by) }
}

/// Accepts exactly what its signer signed: the validator every engine of the harness runs.
public struct KeyedValidator: RecordValidator {
    public let keys: KeyRing

    public init(keys: KeyRing) { self.keys = keys }

    public func accept(_ record: MemberRecord) -> Bool {
        record.payload.count >= 8
            && KeyRing.word(record.payload[0..<8]) == KeyRing.tag(keys.secret(of: record.owner), KeyRing.fields(record))
    }

    /// As MeshCore: the issuer's key comes from its current record, so a removal by a member the
    /// store does not hold is refused.
    public func accept(_ tombstone: Tombstone, issuer: MemberRecord?) -> Bool {
        guard let issuer, issuer.owner == tombstone.issuer else { return false }
        return tombstone.proof == keys.proof(for: tombstone)
    }

    public func accept(_ heartbeat: Heartbeat, leader: MemberRecord) -> Bool {
        leader.owner == heartbeat.epoch.leader && heartbeat.proof == keys.proof(for: heartbeat)
    }
}

/// Signs in one member's name only.
public struct KeyedSigner: GossipSigner {
    let keys: KeyRing
    public let me: NodeID

    public init(keys: KeyRing, me: NodeID) {
        self.keys = keys
        self.me = me
    }

    public func proof(for tombstone: Tombstone) -> [UInt8] {
        precondition(tombstone.issuer == me, "a signer signs only its own removals")
        return keys.proof(for: tombstone)
    }

    public func proof(for heartbeat: Heartbeat) -> [UInt8] {
        precondition(heartbeat.epoch.leader == me, "a signer signs only its own epochs")
        return keys.proof(for: heartbeat)
    }

    /// This member's record at `version`.
    public func record(version: UInt64, content: [UInt8]) -> MemberRecord {
        keys.signed(owner: me, version: version, content: content)
    }
}
