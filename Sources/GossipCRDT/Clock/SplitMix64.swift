/// A tiny seedable generator, so tests and the simulator can replay a run bit for bit.
///
/// SplitMix64 passes BigCrush, needs 8 bytes of state and is fast enough to draw peers for
/// 10,000 simulated nodes; the daemon may inject `SystemRandomNumberGenerator` instead.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return SplitMix64.mix(state)
    }

    /// The SplitMix64 finaliser: a cheap bijective scrambler, also used to hash store entries.
    @inlinable
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
