import GossipCRDT

/// Micro-benchmark of the store operations sync relies on, on a 10,000-entry store.
///
/// Release build only (`swift build -c release --product smeg-crdt-bench`); prints the median of
/// several timed repetitions per operation. Deterministic inputs (seeded), so runs compare.
@main
struct Bench {
    static let entries = 10_000
    static let payload = [UInt8](repeating: 0x5A, count: 200)

    static func main() {
        var rng = SplitMix64(seed: 42)
        let ids = (0..<entries).map { _ in NodeID(rng.next(), rng.next(), rng.next(), rng.next()) }
        let records = ids.map { MemberRecord(owner: $0, version: 1, payload: payload) }
        let full = store(records)
        var changed = full
        var rejections = RejectionCounts()
        for id in ids.prefix(entries / 100) {
            _ = changed.merge(
                MemberEntry(id: id, record: MemberRecord(owner: id, version: 2, payload: payload)),
                validator: AcceptAll(), rejections: &rejections)
        }
        let fullVector = full.versionVector
        let level = MemberStore.bucketLevel(forCount: entries)

        print("smeg-crdt-bench: \(entries)-entry store, 200-byte payloads, 1% of entries changed")
        print(pad("operation", 52) + pad("median", 14) + "per entry")
        measure("build: merge 10,000 records into an empty store", per: entries) { _ = store(records) }
        measure("merge a whole replica that differs in 1% (join)", per: entries) {
            var copy = full
            copy.merge(changed)
        }
        measure("merge an identical replica (idempotent no-op)", per: entries) {
            var copy = full
            copy.merge(full)
        }
        measure("merge one new record (gossip receive path)", per: 1) {
            var copy = full
            _ = copy.merge(
                MemberEntry(id: ids[0], record: MemberRecord(owner: ids[0], version: 3, payload: payload)),
                validator: AcceptAll(), rejections: &rejections)
        }
        measure("delta since a version vector (1% missing)", per: entries) {
            precondition(changed.delta(since: fullVector).count == entries / 100)
        }
        measure("version vector of the store", per: entries) { _ = full.versionVector }
        measure("bucket hashes at level \(level) (4096 buckets)", per: entries) {
            _ = changed.bucketHashes(level: level)
        }
        let ours = full.bucketHashes(level: level)
        let theirs = changed.bucketHashes(level: level)
        let differing = ours.indices.filter { ours[$0] != theirs[$0] }.map { UInt16($0) }
        measure("entries in the \(differing.count) differing buckets", per: entries) {
            _ = changed.entries(inBuckets: differing, level: level)
        }
        measure("summary (digest of agreement)", per: 1) { _ = changed.summary }
    }

    static func store(_ records: [MemberRecord]) -> MemberStore {
        var store = MemberStore()
        var rejections = RejectionCounts()
        for record in records {
            _ = store.merge(
                MemberEntry(id: record.owner, record: record), validator: AcceptAll(), rejections: &rejections)
        }
        return store
    }

    static func measure(_ name: String, per count: Int, repetitions: Int = 15, _ body: () -> Void) {
        let clock = ContinuousClock()
        body()
        var samples: [Duration] = []
        for _ in 0..<repetitions {
            let start = clock.now
            body()
            samples.append(clock.now - start)
        }
        let median = samples.sorted()[repetitions / 2]
        let nanoseconds = Double(median.components.seconds) * 1e9 + Double(median.components.attoseconds) / 1e9
        let perEntry = count > 1 ? "\(format(nanoseconds / Double(count))) ns" : ""
        print(pad(name, 52) + pad(formatTime(nanoseconds), 14) + perEntry)
    }

    static func formatTime(_ nanoseconds: Double) -> String {
        if nanoseconds >= 1e6 { return "\(format(nanoseconds / 1e6)) ms" }
        if nanoseconds >= 1e3 { return "\(format(nanoseconds / 1e3)) µs" }
        return "\(format(nanoseconds)) ns"
    }

    static func format(_ value: Double) -> String {
        let tenths = Int(value * 10 + 0.5)
        return "\(tenths / 10).\(tenths % 10)"
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}
