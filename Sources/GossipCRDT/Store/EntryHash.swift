/// Non-cryptographic 64-bit hashes for digests.
///
/// Digests only decide *whether* two replicas should exchange entries; every entry that is then
/// exchanged is still checked by the validator. A collision can delay a sync, never corrupt state,
/// so speed wins over collision resistance here. The stdlib `Hasher` is seeded per process and
/// therefore useless across machines.
enum EntryHash {
    /// Where an id lives in the trie.
    static func path(of id: NodeID) -> UInt64 {
        SplitMix64.mix(id.w0 ^ SplitMix64.mix(id.w1 ^ SplitMix64.mix(id.w2 ^ SplitMix64.mix(id.w3))))
    }

    static func bytes(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        return SplitMix64.mix(hash ^ UInt64(bytes.count))
    }

    /// Covers every field, so that two replicas agree on an entry's hash exactly when they agree
    /// on the entry.
    static func entry(_ entry: MemberEntry, path: UInt64) -> UInt64 {
        var hash = SplitMix64.mix(path)
        if let record = entry.record {
            hash = SplitMix64.mix(hash ^ 0x5245_434F_5244 ^ record.version)
            hash = SplitMix64.mix(hash ^ bytes(record.payload))
        }
        if let tombstone = entry.tombstone {
            hash = SplitMix64.mix(hash ^ 0x544F_4D42 ^ tombstone.version)
            hash = SplitMix64.mix(hash ^ UInt64(tombstone.kind.rawValue) ^ EntryHash.path(of: tombstone.issuer))
            hash = SplitMix64.mix(hash ^ bytes(tombstone.proof))
        }
        return hash
    }
}
