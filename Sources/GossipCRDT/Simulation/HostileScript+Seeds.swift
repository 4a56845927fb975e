/// Seed scripts for the FuzzHostileMesh fuzzer, one per kind of attack, so that it starts from
/// runs that reach deep states (a crash handled, a flood refused) instead of guessing opcodes.
/// MeshCoreTests' FuzzCorpusTests writes them to Fuzz/FuzzHostileMesh/corpus and checks that
/// the files match and that each still runs clean. No name starts with "crash-": .gitignore
/// keeps libFuzzer's crash artifacts out by that prefix.
extension HostileScript {
    /// Five honest members, the attacker at rank 3, 10 ms of latency at most.
    static let header: [UInt8] = [1, 1, 0, 0, 0, 0, 0, 0, 0, 42, 9]
    /// One second of time, then `count` more.
    static func wait(_ seconds: Int) -> [UInt8] { Array(repeating: [0, 99], count: seconds).flatMap { $0 } }

    public static let seeds: [(name: String, bytes: [UInt8])] = [
        ("quiet", header + wait(8)),
        ("leader-crash", header + wait(2) + [13, 0] + wait(8)),
        ("member-crash", header + wait(2) + [13, 3] + wait(8)),
        // A heartbeat the attacker signed as leader, at epoch 2^64 - 1, to everyone.
        ("epoch-top-heartbeat", header + wait(2) + [15, 0, 3, 2, 1, 0, 7] + wait(4)),
        // A probe of the real leader's line at 2^48 + 1, from the attacker.
        ("epoch-bound-probe", header + wait(2) + [4, 2, 4, 1, 6] + wait(4)),
        // An ack far ahead, then silence: the attacker must still be pruned.
        ("future-ack-then-mute", header + wait(2) + [4, 0, 5, 1, 4, 7, 1, 14] + wait(6)),
        // Eight fresh identities with low keys, to everyone, then a member crashes. The first
        // entry takes a byte less: with no sybil yet, none is picked.
        (
            "sybil-flood",
            header + wait(2) + [15, 0, 2, 0, 0, 8, 1, 1, 1, 1]
                + Array(repeating: [1, 1, 1, 1, 1], count: 7).flatMap { $0 } + [0, 13, 2] + wait(8)
        ),
        // A prune of a live member in the attacker's name, at the version held and 2^16 above.
        ("forged-prune", header + wait(2) + [4, 2, 2, 0, 0, 2, 0, 0, 3, 11, 0, 0, 3, 8, 0, 0] + wait(4)),
        // A digest that claims 100,000 entries, with the leader's epoch.
        ("huge-count-digest", header + wait(2) + [4, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 11, 1, 1, 0, 0] + wait(2)),
        // 200 fresh identities in one delta, as records and as removals the attacker signed.
        ("flood-records", header + wait(2) + [4, 1, 6, 0x00, 1, 200] + wait(6)),
        ("flood-removals", header + wait(2) + [4, 1, 6, 0xFF, 0, 200] + wait(6)),
        // Replays of what the attacker heard after a crash.
        (
            "replay-after-crash",
            header + wait(1) + [13, 2] + wait(6) + [15, 0, 0, 0, 1, 0, 4, 1, 2, 0, 1, 2, 1, 1, 3, 0]
                + wait(2)
        ),
    ]
}
