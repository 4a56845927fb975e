/// Builds one message of the malicious member from script bytes: any case of ``GossipMessage``,
/// or a delta flooding fresh identities, with numbers drawn from the edges the engine bounds
/// (0, 2^16, 2^48, 2^64 − 1, the epoch and versions the target holds, give or take), ids among
/// the members, its sybils and fresh keys, and entries it signed itself, replays of what it
/// received, or forgeries with bad proofs.
struct MessageBuilder {
    var reader: ByteReader
    var mesh: HostileMesh
    let target: NodeID

    var engine: GossipEngine { mesh.engine(target) }

    mutating func message() -> GossipMessage {
        let selector = reader.byte()
        // The top four selector values came last (the delegation tree): every other value keeps
        // the meaning it had, so scripts found before still replay the same way.
        if selector >= 254 {
            // Reports naming honest members, for the leader's epoch or any other.
            let missing = (0..<Int(reader.byte() % 6)).map { _ in pickID() }
            return .report(Report(epoch: pickStamp(), missing: missing))
        }
        if selector >= 250 && selector < 252 {
            // Versions offers and requests: true paths of held entries, or made-up ones.
            let level = reader.byte() % 5
            let held =
                level <= UInt8(GossipLimits.maxBucketLevel)
                ? engine.store.versions(
                    inBuckets: (0..<UInt16(1 << (4 * Int(level)))).map { $0 }, level: Int(level)) : []
            let entries = (0..<Int(reader.byte() % 8)).map { _ -> EntryVersion in
                if reader.bool(), !held.isEmpty {
                    var version = held[Int(reader.byte()) % held.count]
                    version.clock = number(around: version.clock)
                    return version
                }
                return EntryVersion(path: reader.word(), clock: reader.word(), hash: UInt32(reader.byte()))
            }
            let buckets = (0..<Int(reader.byte() % 4)).map { _ in UInt16(reader.byte()) }
            return .versions(Versions(level: level, buckets: buckets, entries: entries, isRequest: selector == 251))
        }
        if selector >= 252 {
            var forged = heartbeat()
            forged.scope = Scope(bits: reader.byte() % 66, prefix: reader.word())
            return .heartbeat(forged)
        }
        switch selector % 7 {
        case 6:
            return .delta(Delta(level: 0, buckets: [], updates: flood(), wantsReply: false))
        case 0:
            let summary = pickSummary()
            let epoch = reader.bool() ? pickStamp() : nil
            return .digest(Digest(summary: summary, epoch: epoch, rumors: updates(limit: 6), isReply: reader.bool()))
        case 1:
            let level = Int(reader.byte() % 5)
            var hashes = level <= GossipLimits.maxBucketLevel ? engine.store.bucketHashes(level: level) : []
            if reader.bool() || hashes.isEmpty {
                hashes = (0..<Int(reader.byte() % 20)).map { _ in UInt32(reader.byte()) }
            }
            for _ in 0..<Int(reader.byte() % 4) where !hashes.isEmpty {
                hashes[Int(reader.byte()) % hashes.count] ^= UInt32(reader.byte()) | 1
            }
            return .buckets(BucketDigest(level: UInt8(level), hashes: hashes))
        case 2:
            let level = reader.byte() % 5
            let buckets = (0..<Int(reader.byte() % 6)).map { _ in UInt16(reader.byte()) << 4 | UInt16(reader.byte()) }
            return .delta(Delta(level: level, buckets: buckets, updates: updates(limit: 8), wantsReply: reader.bool()))
        case 3:
            return .heartbeat(heartbeat())
        case 4:
            return .probe(pickStamp())
        default:
            // Read as before acks lost their summary hash, so that saved scripts (the fuzzer's
            // corpus, HostileScript.seeds) still mean what they meant.
            let stamp = pickStamp()
            if !reader.bool() { _ = reader.word() }
            return .ack(Ack(epoch: stamp))
        }
    }

    // MARK: Numbers and ids

    mutating func number(around base: UInt64) -> UInt64 {
        switch reader.byte() % 12 {
        case 0: return 0
        case 1: return 1
        case 2: return UInt64(reader.byte())
        case 3: return base.subtracting(saturating: UInt64(reader.byte() % 4))
        case 4: return base.adding(saturating: UInt64(reader.byte() % 8))
        case 5: return GossipLimits.maxEpoch
        case 6: return GossipLimits.maxEpoch + 1
        case 7: return .max
        case 8: return GossipLimits.versionStep.adding(saturating: base).adding(saturating: UInt64(reader.byte() % 3))
        case 9: return reader.word()
        case 10: return base.adding(saturating: UInt64(reader.byte()) << 8)
        default: return base
        }
    }

    mutating func pickID() -> NodeID {
        let choice = Int(reader.byte())
        let members = mesh.honest + [mesh.attacker]
        if choice < 160 { return members[choice % members.count] }
        if choice < 200, !mesh.sybils.isEmpty { return mesh.sybils[choice % mesh.sybils.count] }
        if choice < 240 { return mesh.mintSybil(low: choice & 1 == 1) }
        return NodeID(reader.word(), reader.word(), 0, 0)
    }

    mutating func pickStamp() -> EpochStamp {
        let leader = reader.bool() ? (engine.leader ?? mesh.honest[0]) : pickID()
        return EpochStamp(leader: leader, number: number(around: engine.epoch?.number ?? 0))
    }

    mutating func pickSummary() -> StoreSummary {
        let mine = engine.store.summary
        switch reader.byte() % 4 {
        case 0: return mine
        case 1: return StoreSummary(hash: reader.word(), count: mine.count)
        case 2: return StoreSummary(hash: reader.word(), count: UInt32(truncatingIfNeeded: number(around: 100_000)))
        default: return StoreSummary(hash: mesh.engine(mesh.attacker).store.summary.hash, count: mine.count)
        }
    }

    func held(_ id: NodeID) -> UInt64 { engine.store.entry(for: id)?.version ?? 0 }

    // MARK: Entries

    mutating func updates(limit: Int) -> Updates {
        var out = Updates()
        for _ in 0..<Int(reader.byte()) % (limit + 1) {
            if reader.bool() { out.records.append(record()) } else { out.tombstones.append(tombstone()) }
        }
        return out
    }

    mutating func record() -> MemberRecord {
        switch reader.byte() % 5 {
        case 0:
            return mesh.attackerRecord(
                mesh.attacker, version: number(around: held(mesh.attacker).adding(saturating: 1)))
        case 1:
            let sybil = mesh.sybils.isEmpty || reader.bool() ? mesh.mintSybil(low: reader.bool()) : pickSybil()
            return mesh.attackerRecord(sybil, version: number(around: held(sybil).adding(saturating: 1)))
        case 2 where !mesh.seenRecords.isEmpty:
            return mesh.seenRecords[Int(reader.byte()) % mesh.seenRecords.count]
        case 3 where !mesh.seenRecords.isEmpty:
            // A replay with a field changed: the tag no longer matches.
            var forged = mesh.seenRecords[Int(reader.byte()) % mesh.seenRecords.count]
            if reader.bool() {
                forged.version = number(around: forged.version.adding(saturating: 1))
            } else {
                forged.payload.append(1)
            }
            return forged
        default:
            let owner = pickID()
            let payload = (0..<Int(reader.byte() % 12)).map { _ in reader.byte() }
            return MemberRecord(
                owner: owner, version: number(around: held(owner).adding(saturating: 1)), payload: payload)
        }
    }

    /// Up to 255 fresh identities at once, as records or as removals signed by the malicious
    /// member: what the store's room and the new-identity rate are for.
    mutating func flood() -> Updates {
        var out = Updates()
        let removals = reader.byte()
        let low = reader.bool()
        for index in 0..<Int(reader.byte()) {
            let sybil = mesh.mintSybil(low: low)
            if removals >> (index % 8) & 1 == 1 {
                let removal = Tombstone(member: sybil, version: 1, kind: .pruned, issuer: mesh.attacker)
                out.tombstones.append(mesh.attackerSigned(removal))
            } else {
                out.records.append(mesh.attackerRecord(sybil, version: 1))
            }
        }
        return out
    }

    mutating func pickSybil() -> NodeID { mesh.sybils[Int(reader.byte()) % mesh.sybils.count] }

    mutating func tombstone() -> Tombstone {
        switch reader.byte() % 6 {
        case 0:
            let member = pickID()
            let removal = Tombstone(
                member: member, version: number(around: held(member)), kind: .pruned, issuer: mesh.attacker)
            return mesh.attackerSigned(removal)
        case 1 where !mesh.sybils.isEmpty:
            let member = pickID()
            let removal = Tombstone(
                member: member, version: number(around: held(member)), kind: .pruned, issuer: pickSybil())
            return mesh.attackerSigned(removal)
        case 2 where !mesh.seenTombstones.isEmpty:
            return mesh.seenTombstones[Int(reader.byte()) % mesh.seenTombstones.count]
        case 3:
            // In the leader's name, without its key.
            let member = pickID()
            let issuer = reader.bool() ? (engine.leader ?? mesh.honest[0]) : pickID()
            let proof = (0..<Int(reader.byte() % 9)).map { _ in reader.byte() }
            let kind: TombstoneKind = reader.bool() ? .pruned : .left
            return Tombstone(
                member: member, version: number(around: held(member)), kind: kind, issuer: issuer, proof: proof)
        case 4:
            let version = number(around: held(mesh.attacker))
            return mesh.attackerSigned(
                Tombstone(member: mesh.attacker, version: version, kind: .left, issuer: mesh.attacker))
        default:
            guard !mesh.seenTombstones.isEmpty else { return tombstone() }
            var forged = mesh.seenTombstones[Int(reader.byte()) % mesh.seenTombstones.count]
            forged.version = number(around: forged.version)
            return forged
        }
    }

    mutating func heartbeat() -> Heartbeat {
        switch reader.byte() % 4 {
        case 0 where !mesh.seenHeartbeats.isEmpty:
            return mesh.seenHeartbeats[Int(reader.byte()) % mesh.seenHeartbeats.count]
        case 1 where !mesh.seenHeartbeats.isEmpty:
            var forged = mesh.seenHeartbeats[Int(reader.byte()) % mesh.seenHeartbeats.count]
            if reader.bool() {
                forged.epoch.number = number(around: forged.epoch.number)
            } else {
                forged.stableSummary = reader.bool() ? engine.store.summary.hash : reader.word()
            }
            return forged
        case 2:
            let leader = reader.bool() || mesh.sybils.isEmpty ? mesh.attacker : pickSybil()
            let stable = reader.bool() ? engine.store.summary.hash : 0
            let epoch = EpochStamp(leader: leader, number: number(around: engine.epoch?.number ?? 0))
            return mesh.attackerSigned(Heartbeat(epoch: epoch, stableSummary: stable))
        default:
            let proof = (0..<Int(reader.byte() % 9)).map { _ in reader.byte() }
            return Heartbeat(
                epoch: pickStamp(), stableSummary: reader.bool() ? engine.store.summary.hash : 0, proof: proof)
        }
    }
}
