import Testing

@testable import GossipCRDT

/// Nodes that restart from disk know the members but not the mesh's epoch numbers.
@Suite struct RestartTests {
    /// Three members restored from one saved store; the harness republishes like the daemon.
    struct Restarted {
        var mesh = Mesh()
        var started: Set<NodeID> = []
        var isolated: Set<NodeID> = []
        var now = Instant.zero
        var numbers: [NodeID: UInt64] = [:]

        init(members: [UInt64]) {
            let store = MemberStore.with(Updates(records: members.map { record($0, 1) }))
            for n in members {
                var node = engine(n)
                node.restore(store)
                mesh.engines[id(n)] = node
                numbers[id(n)] = n
            }
        }

        mutating func run(for duration: Duration) {
            let end = now + duration
            while now < end {
                now = now + .milliseconds(100)
                let (isolated, started) = (isolated, started)
                mesh.dropped = { outgoing, sender in
                    guard case .member(let target) = outgoing.to, started.contains(target) else { return true }
                    return isolated.contains(sender) || isolated.contains(target)
                }
                for key in mesh.engines.keys.sorted() where started.contains(key) {
                    let out = mesh.engines[key]!.tick(now: now)
                    mesh.deliver(out, from: key, now: now)
                    republishIfAsked(key)
                }
            }
        }

        /// As the daemon does: a member the leader pruned while it was alive comes back.
        mutating func republishIfAsked(_ key: NodeID) {
            for event in mesh.engines[key]!.drainEvents() {
                let minimum: UInt64
                switch event {
                case .republishNeeded(let version): minimum = version
                case .pruned(let member) where member == key: minimum = 0
                default: continue
                }
                let version = max(minimum, mesh.engines[key]!.nextOwnVersion)
                let out = mesh.engines[key]!.publish(record(numbers[key]!, version), now: now)
                mesh.deliver(out, from: key, now: now)
            }
        }

        mutating func expectHealed(
            leader: NodeID, within limit: Duration, sourceLocation: SourceLocation = #_sourceLocation
        ) {
            let before = mesh.engines.mapValues { $0.rejections[.outOfBounds] }
            var healedAfter: Duration?
            for step in 1...Int(limit.nanoseconds / 100_000_000) {
                run(for: .milliseconds(100))
                if converged(on: leader) {
                    healedAfter = .milliseconds(100 * step)
                    break
                }
            }
            #expect(healedAfter != nil, "not healed within \(limit)", sourceLocation: sourceLocation)
            for (key, node) in mesh.engines {
                let refused = node.rejections[.outOfBounds] - before[key]!
                #expect(
                    refused == 0, "\(key) refused \(refused) epochs as out of bounds", sourceLocation: sourceLocation)
            }
        }

        /// `member` appeared through gossip a moment ago, in `viewer`'s view.
        mutating func makeYoung(_ member: NodeID, in viewer: NodeID) {
            let adopted = mesh.engines[viewer]!.liveness.epochsAdopted
            mesh.engines[viewer]!.liveness.presentSince[member] = adopted
        }

        func converged(on leader: NodeID) -> Bool {
            mesh.engines.values.allSatisfy { node in
                node.leader == leader && mesh.engines.keys.allSatisfy { node.store.isPresent($0) }
            }
        }
    }

    /// A member that restarts while it cannot reach anyone leads a line of its own from epoch
    /// 1, while the mesh's line is far ahead. Its own epochs once set the reference of its
    /// epoch bound, so the real leader's heartbeats looked forged to it ("outOfBounds") and it
    /// never followed them: it stayed split from the mesh for good, pruned and coming back
    /// every few seconds. A line this node started from nothing says nothing about the mesh's.
    @Test func aMemberRestartedAloneFollowsTheMeshOnceItIsReachable() {
        var mesh = Restarted(members: [1, 2, 3])
        mesh.started = [id(1), id(3)]
        mesh.run(for: .seconds(20))
        #expect(mesh.mesh.engines[id(1)]!.isLeader)
        let meshEpoch = mesh.mesh.engines[id(3)]!.epoch?.number ?? 0
        #expect(meshEpoch >= 15)

        mesh.started.insert(id(2))
        mesh.isolated = [id(2)]
        mesh.run(for: .seconds(8))
        #expect(mesh.mesh.engines[id(2)]!.isLeader, "alone, the restarted member leads its own line")

        mesh.isolated = []
        mesh.expectHealed(leader: id(1), within: .seconds(5))
    }

    /// The same with the line saved before the restart (`EpochMemory`, as the daemon keeps it):
    /// the restarted member, leading alone, numbers on from what it had accepted, and its bound
    /// admits the mesh's line, which went on during the downtime.
    @Test func aMemberRestartedAloneWithItsSavedLineNumbersOnFromIt() {
        var mesh = Restarted(members: [1, 2, 3])
        mesh.started = [id(1), id(2), id(3)]
        mesh.run(for: .seconds(10))
        let saved = mesh.mesh.engines[id(2)]!.epochMemory
        #expect(saved != nil && saved!.highest >= 8)
        mesh.started.remove(id(2))
        mesh.run(for: .seconds(10))

        var restarted = engine(2, seed: 9)
        restarted.restore(MemberStore.with(Updates(records: [1, 2, 3].map { record($0, 1) })))
        restarted.restoreEpochs(saved!, downtime: .seconds(10), now: mesh.now)
        mesh.mesh.engines[id(2)] = restarted
        mesh.started.insert(id(2))
        mesh.isolated = [id(2)]
        mesh.run(for: .seconds(8))
        let own = mesh.mesh.engines[id(2)]!.epoch
        #expect(own?.leader == id(2) && own!.number > saved!.highest, "\(String(describing: own))")

        mesh.isolated = []
        mesh.expectHealed(leader: id(1), within: .seconds(5))
    }

    /// A saved line is read from disk, so it is untrusted: numbers beyond the cap are capped,
    /// and a highest number above the line cannot raise the node's own epochs past it.
    @Test func aSavedLineIsCapped() {
        var node = engine(1)
        node.restore(MemberStore.with(Updates(records: [record(1, 1), record(2, 1)])))
        node.restoreEpochs(EpochMemory(highest: .max, line: .max), downtime: .seconds(1_000_000), now: .zero)
        #expect(node.epochMemory?.highest == GossipLimits.maxEpoch)
        #expect(node.epochMemory?.line == GossipLimits.maxEpoch)
        var low = engine(1)
        low.restore(MemberStore.with(Updates(records: [record(1, 1), record(2, 1)])))
        low.restoreEpochs(EpochMemory(highest: 900, line: 10), downtime: .zero, now: .zero)
        #expect(low.epochMemory == EpochMemory(highest: 10, line: 10))
    }

    /// With the downtime unknown (the wall clock went back) a restored line would be a guess:
    /// only the numbering comes back, and the first leader followed sets the bound.
    @Test func aSavedLineWithoutADowntimeLeavesTheBoundOpen() {
        var mesh = Restarted(members: [1, 2, 3])
        mesh.started = [id(1), id(3)]
        mesh.run(for: .seconds(30))
        var restarted = engine(2, seed: 9)
        restarted.restore(MemberStore.with(Updates(records: [1, 2, 3].map { record($0, 1) })))
        restarted.restoreEpochs(EpochMemory(highest: 3, line: 3), downtime: nil, now: mesh.now)
        #expect(restarted.epochMemory == nil, "no bound yet")
        mesh.mesh.engines[id(2)] = restarted
        mesh.started.insert(id(2))
        mesh.isolated = [id(2)]
        mesh.run(for: .seconds(8))
        #expect(mesh.mesh.engines[id(2)]!.epoch!.number > 3)
        mesh.isolated = []
        mesh.expectHealed(leader: id(1), within: .seconds(5))
    }

    /// Every member restarts within a moment: nobody prunes anybody, and the lowest key leads.
    @Test func aMeshRestartedAtOnceSettlesWithoutPrunes() {
        var mesh = Restarted(members: [1, 2, 3, 4])
        for n: UInt64 in [3, 1, 4, 2] {
            mesh.started.insert(id(n))
            mesh.run(for: .milliseconds(100))
        }
        mesh.run(for: .seconds(3))
        #expect(mesh.converged(on: id(1)))
        for (key, node) in mesh.mesh.engines {
            #expect(node.store.tombstoned.isEmpty, "\(key) holds removals after a clean restart")
        }
    }

    /// A mesh whose members all joined moments ago loses its leader before anyone is of age
    /// (`provenAfterEpochs`). Each young candidate once refused to lead while the others waited
    /// for it, so the failover walked down the keys 3 s at a time: 17-19 s with six daemons in
    /// the failure suite. A young member that has followed this mesh's epochs may now lead when
    /// nobody proven can, like everyone else picking the lowest key that is not suspected.
    @Test func aYoungMeshReplacesItsLeaderInOneFailover() {
        var mesh = Restarted(members: [1, 2, 3, 4, 5, 6])
        mesh.started = Set((1...6).map { id($0) })
        mesh.run(for: .seconds(3))
        #expect(mesh.converged(on: id(1)))
        // As after six `join`s a few seconds ago: each member saw every other one (and itself)
        // appear through gossip within the last epoch or two.
        for key in mesh.mesh.engines.keys {
            for other in mesh.mesh.engines.keys { mesh.makeYoung(other, in: key) }
        }
        mesh.started.remove(id(1))
        let killed = mesh.now
        var gone: Duration?
        for _ in 0..<100 {
            mesh.run(for: .milliseconds(100))
            if (2...6).allSatisfy({ !mesh.mesh.engines[id($0)]!.store.isPresent(id(1)) }) {
                gone = mesh.now.since(killed)
                break
            }
        }
        // Three silent intervals, then the successor prunes at its first deadline.
        #expect(gone != nil && gone! <= .seconds(6), "the dead leader was pruned after \(String(describing: gone))")
        #expect((2...6).allSatisfy { mesh.mesh.engines[id($0)]!.leader == id(2) })
    }
}
