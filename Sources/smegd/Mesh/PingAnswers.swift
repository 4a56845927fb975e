/// Answers to `smegctl ping`'s probes, between the node reporting one (`.pingAnswered`) and the
/// request that waits for it taking it.
///
/// Only nonces a request waits for are kept: an answer that comes after its probe timed out, or
/// one nobody asked for, is dropped at once. Each waiting request forgets its nonces when it
/// ends, however it ends, so the table never holds more than the probes of the requests in
/// progress.
struct PingAnswers {
    private var awaited: Set<UInt64> = []
    private var answers: [UInt64: Duration] = [:]

    var waiting: Int { awaited.count }
    var held: Int { answers.count }

    mutating func expect(_ nonce: UInt64) { awaited.insert(nonce) }

    /// Keeps `rtt` when a request waits for `nonce`.
    mutating func answered(_ nonce: UInt64, rtt: Duration) {
        guard awaited.contains(nonce) else { return }
        answers[nonce] = rtt
    }

    /// The round-trip time for `nonce` once it has come; taking it ends the wait.
    mutating func take(_ nonce: UInt64) -> Duration? {
        guard let rtt = answers.removeValue(forKey: nonce) else { return nil }
        awaited.remove(nonce)
        return rtt
    }

    /// The request stopped waiting (a timeout, or it ended): a late answer is not kept.
    mutating func forget(_ nonce: UInt64) {
        awaited.remove(nonce)
        answers[nonce] = nil
    }
}
