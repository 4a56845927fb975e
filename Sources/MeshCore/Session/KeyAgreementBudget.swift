/// How many X25519 key agreements frames from senders that are not present members may cost.
///
/// The pair key of a sender that the session holds no state for costs one X25519 (75–100 µs),
/// computed before the pair tag can be checked. Present members cost it once each and are
/// bounded by the membership, but any holder of the mesh secret can claim a fresh sender id in
/// every frame: 40,000 frames a second would have cost 3–4 s of CPU every second. Beyond this
/// budget such frames are checked for an introduction only (a hash, and the only frame a joiner
/// that is not present anywhere sends) and otherwise refused, so a flood cannot stop a join.
/// A token bucket over the session's wall clock: `rate` per second after a burst of `burst`.
struct KeyAgreementBudget: Sendable {
    static let rate: UInt64 = 200
    static let burst: UInt64 = 400

    /// Tokens, in thousandths, so the refill loses nothing between frames a millisecond apart.
    private var milliTokens = Self.burst * 1000
    private var refilledAt: UInt64?

    /// Takes one agreement at `now` (nanoseconds); false when the budget is spent.
    mutating func take(now: UInt64) -> Bool {
        let capacity = Self.burst * 1000
        if let last = refilledAt {
            // A clock that steps back refills nothing; the bucket never overflows its capacity.
            let elapsed = now >= last ? now - last : 0
            let earned = (elapsed / 1_000_000).multipliedReportingOverflow(by: Self.rate)
            milliTokens =
                earned.overflow ? capacity : min(capacity, milliTokens.adding(saturating: earned.partialValue))
        }
        refilledAt = max(now, refilledAt ?? now)
        guard milliTokens >= 1000 else { return false }
        milliTokens -= 1000
        return true
    }
}
