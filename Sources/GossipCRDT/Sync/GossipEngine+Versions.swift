/// Versions before entries.
///
/// Once bucket hashes show where two replicas differ, the side that got them offers the
/// versions (path, clock, hash: 20 bytes) of its entries in the differing buckets, not the
/// entries (about 250 bytes each). The other side answers with the entries the offer lacks or
/// holds older, and asks for the ones it lacks or holds older. Entries then cross once, in the
/// direction they are needed: a healed partition, where every bucket differs, used to ship
/// whole buckets both ways at every exchange (2.4 MB per node at N = 1000).
extension GossipEngine {
    /// Room for versions in one message: the frame limit less the fixed fields and buckets.
    static let versionsBudget = (GossipLimits.maxMessageBytes - 1024 - 2 * 4096) / 20

    /// The offer for `differing` buckets, in messages of whole buckets where they fit. A bucket
    /// too large for one message goes out in parts, and only its last part names it (the
    /// receiver sends back what a named bucket holds beyond the offer).
    func offer(_ differing: [UInt16], level: UInt8, to member: NodeID) -> [Outgoing] {
        var out: [Outgoing] = []
        var buckets: [UInt16] = []
        var entries: [EntryVersion] = []
        func flush() {
            guard !buckets.isEmpty || !entries.isEmpty else { return }
            let message = Versions(level: level, buckets: buckets, entries: entries, isRequest: false)
            out.append(Outgoing(to: .member(member), message: .versions(message)))
            buckets = []
            entries = []
        }
        for bucket in differing {
            var mine = store.versions(inBuckets: [bucket], level: Int(level))
            if entries.count + mine.count > Self.versionsBudget { flush() }
            while mine.count > Self.versionsBudget {
                entries = Array(mine.prefix(Self.versionsBudget))
                mine.removeFirst(Self.versionsBudget)
                flush()
            }
            buckets.append(bucket)
            entries += mine
        }
        flush()
        return out
    }

    mutating func receiveVersions(_ versions: Versions, from: NodeID, now: Instant) -> [Outgoing] {
        let level = Int(versions.level)
        if versions.isRequest {
            let wanted = store.entries(atPaths: versions.entries.map(\.path), level: level)
            return deltas(of: wanted, level: 0, to: from)
        }
        let theirs = Dictionary(versions.entries.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        let mine = store.versions(inBuckets: versions.buckets, level: level)
        let held = Dictionary(
            store.versions(inBuckets: Self.buckets(of: versions.entries, level: level), level: level).map {
                ($0.path, $0)
            }, uniquingKeysWith: { first, _ in first })
        // Ours that the offer lacks, holds older, or holds different at the same clock.
        let ahead = mine.filter { version in
            guard let other = theirs[version.path] else { return true }
            return version.clock > other.clock || version.clock == other.clock && version.hash != other.hash
        }.map(\.path)
        // Theirs that we lack, hold older, or hold different at the same clock.
        let wanted = versions.entries.filter { version in
            guard let ours = held[version.path] else { return true }
            return version.clock > ours.clock || version.clock == ours.clock && version.hash != ours.hash
        }.map { EntryVersion(path: $0.path, clock: 0, hash: 0) }
        var out = deltas(of: store.entries(atPaths: ahead, level: level), level: 0, to: from)
        for start in stride(from: 0, to: wanted.count, by: Self.versionsBudget) {
            let part = Array(wanted[start..<min(start + Self.versionsBudget, wanted.count)])
            let request = Versions(level: versions.level, buckets: [], entries: part, isRequest: true)
            out.append(Outgoing(to: .member(from), message: .versions(request)))
        }
        return out
    }

    private static func buckets(of entries: [EntryVersion], level: Int) -> [UInt16] {
        guard level > 0 else { return [0] }
        return Array(Set(entries.map { UInt16(truncatingIfNeeded: $0.path >> UInt64(64 - 4 * level)) })).sorted()
    }

    /// Entries in deltas that ask for nothing back, each under the message limit.
    func deltas(of entries: [MemberEntry], level: UInt8, to member: NodeID) -> [Outgoing] {
        var out: [Outgoing] = []
        var part = Updates()
        var size = 0
        for entry in entries {
            if !part.isEmpty && size + entry.wireSize > GossipEngine.deltaBudget {
                out.append(
                    Outgoing(
                        to: .member(member),
                        message: .delta(Delta(level: level, buckets: [], updates: part, wantsReply: false))))
                part = Updates()
                size = 0
            }
            part.append(entry)
            size += entry.wireSize
        }
        if !part.isEmpty {
            out.append(
                Outgoing(
                    to: .member(member),
                    message: .delta(Delta(level: level, buckets: [], updates: part, wantsReply: false))
                ))
        }
        return out
    }
}
