import GossipCRDT

/// Rendezvous (highest-random-weight) hashing: each chooser ranks every candidate by a hash of
/// the pair and takes the highest.
///
/// Chosen over a hash ring because it needs no virtual nodes and no shared state, and it has the
/// stability the mesh needs: when a candidate joins, only the choosers for which it now has the
/// top weight move (about 1/P of them), and when one leaves, only its own choosers move. Every
/// member computes the same weights from public keys alone, so all nodes agree on every choice
/// once they agree on the membership.
///
/// The weights are not secret: a member that grinds keys could raise its weight for choosers it
/// knows. That only lets an admitted member (it holds the mesh secret) relay traffic it could be
/// chosen for anyway, and WireGuard already decrypts relayed traffic at every hop.
public enum Rendezvous {
    /// Separates the weight families (attachment, routes) so one never predicts the other.
    public enum Purpose: UInt64, Sendable {
        case attachment = 0x736d_6567_6174_7461  // "smegatta"
        case route = 0x736d_6567_726f_7574  // "smegrout"
    }

    /// A 64-bit summary of a public key: keys are uniformly random, so their first 8 bytes
    /// already are a good hash input and no cryptographic hash is needed per pair.
    public static func word(of key: WireGuardPublicKey) -> UInt64 {
        key.bytes.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// A 64-bit summary of a prefix (family, bits and length), for per-destination choices.
    public static func word(of prefix: IPPrefix) -> UInt64 {
        var value = UInt64(prefix.length) &+ (prefix.address.bitCount == 32 ? 0x4000 : 0x6000)
        for byte in prefix.address.bytes { value = SplitMix64.mix(value ^ UInt64(byte)) }
        return value
    }

    /// The weight of `candidate` for `chooser`: a bijective scramble of both, so that distinct
    /// pairs get independent-looking weights.
    public static func weight(chooser: UInt64, candidate: UInt64, purpose: Purpose) -> UInt64 {
        SplitMix64.mix(SplitMix64.mix(chooser ^ purpose.rawValue) ^ candidate)
    }

    /// The candidate with the highest weight for `chooser`; ties (equal 64-bit weights) go to
    /// the lower key so that every node breaks them the same way. Nil when there is none.
    public static func choose(
        chooser: UInt64, among candidates: [WireGuardPublicKey], purpose: Purpose
    ) -> WireGuardPublicKey? {
        var best: (weight: UInt64, key: WireGuardPublicKey)?
        for candidate in candidates {
            let weight = weight(chooser: chooser, candidate: word(of: candidate), purpose: purpose)
            if let current = best, current.weight > weight || (current.weight == weight && current.key < candidate) {
                continue
            }
            best = (weight, candidate)
        }
        return best?.key
    }
}
