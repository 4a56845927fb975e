import GossipCRDT

/// Turning membership into kernel state: what to apply (debounced, retried after a failure),
/// and a client's first handshakes.
extension MeshNode {
    /// What the kernel reported after an `apply`.
    public struct Applied: Equatable, Sendable {
        /// A short summary for the log.
        public var summary: String
        /// Peers added to the device by this apply.
        public var added: [WireGuardKey]
        /// What could not be applied while the rest was (the exit's nftables rules when `nft` is
        /// missing): shown as the mesh's `lastError` until an apply succeeds in full.
        public var problem: String?

        public init(summary: String, added: [WireGuardKey], problem: String? = nil) {
            self.summary = summary
            self.added = added
            self.problem = problem
        }
    }

    /// How soon an apply that left a problem is tried again: the operator may fix it (install
    /// nftables) without the membership changing.
    static let problemRetry: Duration = .seconds(10)

    /// The desired WireGuard, address and route state from the present members, now.
    mutating func reconcile(now: Instant, updatingPaths: Bool = true) -> [Effect] {
        reconcileDue = nil
        let live = membersInSessions(now: now)
        let notes = updateIPv4Assignment(members: live)
        var inputs = DesiredMeshState.Inputs(
            mesh: mesh, identity: identity, interfaceName: interfaceName, listenPort: options.listenPort,
            role: options.role, keepalive: options.keepalive,
            members: live.compactMap { member -> NodeRecord? in
                // Records merged under an earlier, wider policy route only what the current allows.
                guard var record = sessionRecord(of: member) else { return nil }
                record.routes = record.routes.filter {
                    policy.violation(of: $0, in: mesh, ipv4Prefix: ipv4Prefix) == nil
                }
                return record
            })
        inputs.accessPolicy = currentAccessPolicy
        if !inputs.accessPolicy.isDefault { inputs.tags = (gossip.ledger?.tags ?? [:]).mapValues(\.value.tags) }
        if let ipv4 {
            inputs.ipv4Prefix = ipv4.prefix
            for record in inputs.members {
                if let address = ipv4.address(of: record.signingKey) { inputs.ipv4[record.wireGuardKey] = address }
            }
            if let own = ownIPv4 { inputs.ipv4[identity.wireGuardPublicKey] = own }
        }
        topology = DesiredMeshState.topology(for: inputs)
        // The pairs' plans follow the new topology first (a pair that no longer relays stops
        // punching); their own changes re-enter here without updating again.
        let pathEffects = updatingPaths ? updateDirectPaths(topology: topology, now: now) : []
        if pathEffects.contains(where: { if case .apply = $0 { return true } else { return false } }) {
            return notes + pathEffects + readmitWithoutAddress(now: now)
        }
        inputs.directPaths = paths.direct.plans
        return notes + pathEffects + [.apply(DesiredMeshState.compute(inputs, topology: topology))]
            + readmitWithoutAddress(now: now)
    }

    /// The outcome of an `apply`, and how long the kernel took.
    public mutating func applied(_ result: Result<Applied, any Error>, took elapsed: Duration, now: Instant) -> [Effect]
    {
        let labels = ["mesh": mesh.text]
        switch result {
        case .success(let applied):
            if options.role == .client {
                // Punching peers are started by `DirectPaths`, one candidate at a time.
                let punching = Set(paths.direct.plans.keys.compactMap { WireGuardKey(bytes: $0.bytes) })
                for key in applied.added where !punching.contains(key) {
                    handshakeRetries[key] = HandshakeRetry(due: now + .seconds(1), attempts: 0)
                }
            }
            var effects: [Effect] = [
                .metric(.set("smeg_reconcile_seconds", elapsed.seconds, labels: labels)),
                .metric(.increment("smeg_reconciles_total", labels: labels)),
                .log(.debug, "reconciled \(interfaceName): \(applied.summary) in \(elapsed)"),
            ]
            if let problem = applied.problem {
                // Said once while it lasts, not at every retry.
                if problem != lastError { effects.append(.log(.error, problem)) }
                if reconcileDue == nil { reconcileDue = now + Self.problemRetry }
            }
            lastError = applied.problem
            return effects
        case .failure(let error):
            lastError = "reconcile \(interfaceName) failed: \(error)"
            reconcileDue = now + .seconds(2)  // retry, the kernel may recover
            return [.log(.error, lastError!), .metric(.increment("smeg_reconcile_errors_total", labels: labels))]
        }
    }

    /// A peer whose digest equals our store has our record, so it has added us (or will at its
    /// next reconcile): a handshake started now is answered.
    mutating func peerHasOurView(_ sender: NodeID, now: Instant) {
        guard let key = WireGuardKey(bytes: sender.bytes), let retry = handshakeRetries[key] else { return }
        let soon = now + settings.reconcileDebounce + .milliseconds(200)
        if soon < retry.due { handshakeRetries[key]?.due = soon }
    }

    /// When a first handshake is due to be started again, the device is asked first: a
    /// handshake that completed needs no restart. WireGuard retries a handshake only every 5 s,
    /// and a client's first attempt is lost whenever it reaches its peer before the peer has
    /// added the client.
    mutating func retryHandshakes(now: Instant) -> [Effect] {
        handshakeRetries.contains { now >= $0.value.due } ? [.observeKernel] : []
    }

    /// What the device reports of its peers: retries end for sessions that completed a
    /// handshake, and the others that are due are restarted.
    public mutating func observed(_ peers: [WireGuardKey: KernelPeer], now: Instant) -> [Effect] {
        kernelPeers = peers
        for (key, retry) in handshakeRetries where peers[key]?.handshook(after: retry.since) ?? true {
            handshakeRetries[key] = nil
        }
        return handshakeRetries.filter { now >= $0.value.due }.sorted { $0.key.base64 < $1.key.base64 }.map {
            restart($0.key, $0.value)
        } + pathsObserved(now: now)
    }

    /// The device could not be read: the due retries are restarted blind (the kernel's restart
    /// itself refuses a peer with a session).
    public mutating func observationFailed(_ error: any Error, now: Instant) -> [Effect] {
        [.log(.debug, "could not read the peers of \(interfaceName): \(error)")]
            + handshakeRetries.filter { now >= $0.value.due }.sorted { $0.key.base64 < $1.key.base64 }.map {
                restart($0.key, $0.value)
            }
    }

    /// The outcome of a restart: true when it was started again, false when there was nothing
    /// to do (the handshake happened, or the peer is gone). Up to five times a session; after
    /// that WireGuard's own retry every 5 s carries on.
    public mutating func restarted(_ key: WireGuardKey, _ result: Result<Bool, any Error>, now: Instant) -> [Effect] {
        guard let retry = handshakeRetries[key] else { return [] }
        switch result {
        case .success(true) where retry.attempts < 4:
            handshakeRetries[key]?.due = now + .seconds(1)
            handshakeRetries[key]?.attempts = retry.attempts + 1
            return [.log(.debug, "restarted the handshake with \(key.base64)")]
        case .success:
            handshakeRetries[key] = nil
            return []
        case .failure(let error):
            handshakeRetries[key] = nil
            return [.log(.warning, "could not restart the handshake with \(key.base64): \(error)")]
        }
    }
}
