import GossipCRDT

/// What survives a restart: the membership, where members were last heard from, the frame
/// counter and the epoch line.
extension MeshNode {
    /// The membership file to write now; a failed write comes back through `failed`.
    public mutating func persist(wallMillis: UInt64) -> Effect {
        persistDue = nil
        var addresses: [String: String] = [:]
        for (id, address) in gossip.wire.learned { addresses[WireGuardPublicKey(nodeID: id).base64] = "\(address)" }
        var membership = MembershipSnapshot.capture(engine.store, lastAddresses: addresses)
        membership.frameCounter = gossip.wire.session.counterHighWater
        if let memory = engine.epochMemory {
            membership.epochs = PersistedEpochs(highest: memory.highest, line: memory.line, savedAt: wallMillis)
        }
        if let ledger = gossip.ledger, ledger.count > 0 {
            membership.ledger = ledger.sorted.map { Base64.encode($0.bytes) }
        }
        return .save(membership)
    }

    /// Restores the last membership the shell loaded, re-verifying every record: nothing
    /// unverified is restored. `wallMillis` measures the downtime since the file was written.
    public mutating func restore(
        _ loaded: StateFile<PersistedMembership>, wallMillis: UInt64, now: Instant
    ) -> [Effect] {
        let saved: PersistedMembership
        switch loaded {
        case .absent: return []
        case .corrupt(let problem): return [.log(.error, problem)]
        case .value(let value): saved = value
        }
        let refusedStatements = restoreLedger(saved.ledger)
        let restored = MembershipSnapshot.restore(saved, validator: validator)
        var addresses: [NodeID: PeerAddress] = [:]
        for (id, endpoint) in restored.addresses {
            switch endpoint.host {
            case .ipv4(let ip): addresses[id] = PeerAddress(ip: .v4(ip), port: endpoint.port)
            case .ipv6(let ip): addresses[id] = PeerAddress(ip: .v6(ip), port: endpoint.port)
            case .name: continue  // written from datagram sources, so never a name
            }
        }
        // A clock that went back (or a file from the future) cannot measure the downtime.
        let downtime = saved.epochs.flatMap { epochs in
            wallMillis >= epochs.savedAt ? Duration.milliseconds(Int64(clamping: wallMillis - epochs.savedAt)) : nil
        }
        // Counters must keep rising across restarts even if the wall clock went back.
        let wire = MeshWire(
            session: FrameSession(
                mesh: mesh, secret: secret, identity: identity, counterHighWater: saved.frameCounter ?? 0))
        gossip.restore(
            restored.store, addresses: addresses, wire: wire,
            epochs: saved.epochs.map { EpochMemory(highest: $0.highest, line: $0.line) }, downtime: downtime, now: now)
        let store = restored.store
        let counts = "\(store.presentCount) members, \(store.tombstoned.count) removals and \(store.floors.count)"
        var effects: [Effect] = [
            .log(.info, "restored \(counts) version floors from disk (\(restored.refused) rejected)")
        ]
        if let ledger = gossip.ledger, ledger.count > 0 || refusedStatements > 0 {
            effects.append(.log(.info, "restored \(ledger.count) owner statements (\(refusedStatements) rejected)"))
        }
        if let eviction { effects.append(.evicted(eviction)) }
        return effects
    }
}
