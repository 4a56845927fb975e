import GossipCRDT
import Testing

@testable import MeshCore

/// Owner statements (encoding, signature, forgeries) and the ledger's rules: merge laws over
/// generated owner trees, seniority, and what a removed owner's statements still do.
@Suite struct OwnerLedgerTests {
    typealias Decision = OwnerStatement.Decision
    var rng = IPAddressDifferentialTests.SplitMix(state: 23)
    let mesh = Fixtures.mesh1

    mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    }

    mutating func identity() -> NodeIdentity {
        while true {
            if let identity = try? NodeIdentity(seed: bytes(32)) { return identity }
        }
    }

    mutating func pick<T>(_ items: [T]) -> T { items[Int(rng.next() % UInt64(items.count))] }

    /// Identities sorted by signing key: within one grant depth, the first is the most senior.
    mutating func identities(_ count: Int) -> [NodeIdentity] {
        (0..<count).map { _ in identity() }.sorted {
            $0.signingKey.bytes.lexicographicallyPrecedes($1.signingKey.bytes)
        }
    }

    func node(_ owner: NodeIdentity) -> NodeID { owner.signingKey.derivedWireGuardKey!.nodeID }

    func sign(_ decision: Decision, by owner: NodeIdentity, at issuedAt: UInt64 = 1_700_000_000_000) -> OwnerStatement {
        OwnerStatement.sign(decision, by: owner, at: issuedAt, mesh: mesh)
    }

    func ledger(_ founder: NodeIdentity, _ statements: [OwnerStatement]) -> OwnerLedger {
        var ledger = OwnerLedger(mesh: mesh, founder: founder.signingKey)
        ledger.merge(statements)
        return ledger
    }

    func union(_ a: OwnerLedger, _ b: OwnerLedger) -> OwnerLedger {
        var merged = a
        merged.merge(b.sorted)
        return merged
    }

    mutating func decision(kind: Int) -> Decision {
        switch kind {
        case 0: .addOwner(SigningPublicKey(uncheckedBytes: bytes(32)))
        case 1: .removeOwner(SigningPublicKey(uncheckedBytes: bytes(32)))
        case 2: .evict(NodeID(bytes: bytes(32))!)
        case 3: .revokeInvite(InviteID(bytes: bytes(InviteID.byteCount))!)
        case 4:
            .admit(
                Admission(
                    member: SigningPublicKey(uncheckedBytes: bytes(32)), role: rng.next() % 2 == 0 ? .member : .client,
                    invite: rng.next() % 2 == 0 ? nil : InviteID(bytes: bytes(InviteID.byteCount))))
        case 5: .requireAdmissions
        default: .rotate(generation: rng.next() % 5, commitment: bytes(32))
        }
    }

    /// What the merge laws compare: every decision and the set's size and summary.
    struct Outcome: Equatable {
        var owners: [SigningPublicKey]
        var evicted: [NodeID: OwnerLedger.Eviction]
        var revoked: Set<InviteID>
        var admitted: [SigningPublicKey: Admission]
        var requiresAdmissions: Bool
        var rotation: OwnerStatement?
        var summary: UInt64
        var count: Int

        init(_ ledger: OwnerLedger) {
            (owners, evicted, revoked) = (ledger.owners, ledger.evicted, ledger.revokedInvites)
            (admitted, requiresAdmissions, rotation) = (ledger.admitted, ledger.requiresAdmissions, ledger.rotation)
            (summary, count) = (ledger.summary, ledger.count)
        }
    }

    struct Scenario {
        var founder: NodeIdentity
        var statements: [OwnerStatement]
    }

    /// A random owner tree: the founder and granted owners grant, remove and evict (members and
    /// owners' nodes) and revoke invites, with random clocks; a stranger's statements and
    /// duplicates are mixed in.
    mutating func scenario() -> Scenario {
        let founder = identity()
        let members = (0..<Int(rng.next() % 6) + 2).map { _ in identity() }
        let everyone = [founder] + members
        let stranger = identity()
        let outsiders = (0..<3).map { _ in NodeID(bytes: bytes(32))! }
        let invites = (0..<3).map { _ in InviteID(bytes: bytes(InviteID.byteCount))! }
        var granters = [founder]
        var statements: [OwnerStatement] = []
        for _ in 0..<Int(rng.next() % 30) + 1 {
            let issuer = rng.next() % 20 == 0 ? stranger : pick(granters)
            let decision: Decision
            switch rng.next() % 10 {
            case 0..<4:
                let subject = pick(members)
                decision = .addOwner(subject.signingKey)
                if issuer.signingKey != stranger.signingKey { granters.append(subject) }
            case 4, 5: decision = .removeOwner(pick(everyone).signingKey)
            case 6, 7: decision = .evict(node(pick(everyone)))
            case 8: decision = .evict(pick(outsiders))
            case 9 where rng.next() % 3 == 0:
                decision =
                    rng.next() % 4 == 0
                    ? (rng.next() % 2 == 0
                        ? .requireAdmissions : .rotate(generation: rng.next() % 4, commitment: bytes(32)))
                    : .admit(
                        Admission(
                            member: pick(everyone).signingKey, role: rng.next() % 2 == 0 ? .member : .client,
                            invite: rng.next() % 2 == 0 ? nil : pick(invites)))
            default: decision = .revokeInvite(pick(invites))
            }
            statements.append(sign(decision, by: issuer, at: rng.next() % 3_000_000_000_000))
            if rng.next() % 10 == 0 { statements.append(pick(statements)) }
        }
        return Scenario(founder: founder, statements: statements)
    }

    /// The ids the ledger must store: statements whose issuer is reachable from the founder by
    /// grants among them, whatever later removed it.
    func reachable(_ scenario: Scenario) -> Set<[UInt8]> {
        var owners: Set<SigningPublicKey> = [scenario.founder.signingKey]
        var grew = true
        while grew {
            grew = false
            for statement in scenario.statements where owners.contains(statement.issuer) {
                if case .addOwner(let key) = statement.decision, owners.insert(key).inserted { grew = true }
            }
        }
        return Set(scenario.statements.filter { owners.contains($0.issuer) }.map(\.id))
    }

    func checkInvariants(_ ledger: OwnerLedger, _ scenario: Scenario) {
        #expect(ledger.owners.first == scenario.founder.signingKey)
        #expect(Set(ledger.owners).count == ledger.owners.count)
        #expect(Set(ledger.statements.keys) == reachable(scenario))
        for owner in ledger.owners {
            #expect(owner.derivedWireGuardKey.map { ledger.isEvicted($0.nodeID) } == false)
        }
        for eviction in ledger.evicted.values { #expect(ledger.isOwner(eviction.by)) }
    }

    // MARK: Statements

    @Test mutating func signedStatementsDecodeToThemselves() throws {
        let owners = (0..<4).map { _ in identity() }
        for round in 0..<400 {
            let issuedAt = [0, UInt64.max, rng.next()][round % 3]
            let statement = OwnerStatement.sign(
                decision(kind: round % 7), by: pick(owners), at: issuedAt, mesh: mesh)
            let decoded = try OwnerStatement(bytes: statement.bytes, mesh: mesh)
            #expect(decoded == statement && decoded.id == statement.id && decoded.issuedAt == issuedAt)
            #expect(try OwnerStatement(bytes: ([9] + statement.bytes).dropFirst(), mesh: mesh) == statement)
            let subject = [32, 32, 32, InviteID.byteCount, Admission.byteCount, 0, 40][round % 7]
            #expect(statement.bytes.count == OwnerStatement.headerSize + subject + 64)
        }
    }

    @Test mutating func everyFlippedByteIsRefused() throws {
        let owner = identity()
        for round in 0..<8 {
            let statement = sign(decision(kind: round % 7), by: owner, at: rng.next())
            for index in statement.bytes.indices {
                for mask in [1 << (round % 8), 0xFF] as [UInt8] {
                    var forged = statement.bytes
                    forged[index] ^= mask
                    #expect(throws: OwnerStatementError.self) { try OwnerStatement(bytes: forged, mesh: mesh) }
                }
            }
            var newer = statement.bytes
            newer[0] ^= 1 << (round % 8)
            #expect(throws: OwnerStatementError.unsupportedFormat(newer[0])) {
                try OwnerStatement(bytes: newer, mesh: mesh)
            }
            #expect(throws: OwnerStatementError.badSignature) {
                try OwnerStatement(bytes: statement.bytes, mesh: Fixtures.mesh2)
            }
        }
    }

    @Test mutating func truncatedOversizeAndRandomInputsAreRefused() throws {
        let owner = identity()
        let limit = OwnerStatement.maxByteCount
        for kind in 0..<7 {
            let statement = sign(decision(kind: kind), by: owner)
            for length in 0..<statement.bytes.count {
                #expect(throws: OwnerStatementError.self) {
                    try OwnerStatement(bytes: statement.bytes.prefix(length), mesh: mesh)
                }
            }
            // Every length just around the limit, and a stride through the rest: a policy
            // statement may be 16 KB, and every length to it would be quadratic work.
            let most = limit + 20 - statement.bytes.count
            let nearLimit = max(1, most - 40)...most
            for extra in Set(
                Array(1...min(40, most)) + Array(stride(from: 41, through: most, by: 97)) + Array(nearLimit)
            ).sorted() {
                let padded = statement.bytes + bytes(extra)
                let error = #expect(throws: OwnerStatementError.self) { try OwnerStatement(bytes: padded, mesh: mesh) }
                let tooLarge = WireError.tooLarge(field: "owner statement", length: padded.count, limit: limit)
                #expect(padded.count <= limit || error == .malformed(tooLarge))
            }
        }
        #expect(throws: OwnerStatementError.malformed(.truncated(field: "owner statement"))) {
            try OwnerStatement(bytes: [], mesh: mesh)
        }
        #expect(throws: OwnerStatementError.self) {
            try OwnerStatement(bytes: [UInt8](repeating: 1, count: 1 << 20), mesh: mesh)
        }
        for _ in 0..<3000 {
            var input = bytes(Int(rng.next() % UInt64(limit + 10)))
            if !input.isEmpty { input[0] = 1 }
            if input.count > 1 { input[1] = UInt8(rng.next() % 6) }
            #expect(throws: OwnerStatementError.self) { try OwnerStatement(bytes: input, mesh: mesh) }
        }
    }

    /// Properly signed by a newer (or broken) smegmesh: the format and kind are named, a subject
    /// of the wrong length is malformed.
    @Test func unknownFormatsAndKindsAreNamed() {
        let owner = Fixtures.identity1
        func signed(format: UInt8 = 1, kind: UInt8, subject: Int) -> [UInt8] {
            let body = [format, kind] + owner.signingKey.bytes + [UInt8](repeating: 0, count: 8 + subject)
            return body + owner.sign(OwnerStatement.signatureDomain + mesh.bytes + body)
        }
        for format: UInt8 in [0, 2, 0xFF] {
            #expect(throws: OwnerStatementError.unsupportedFormat(format)) {
                try OwnerStatement(bytes: signed(format: format, kind: 1, subject: 32), mesh: mesh)
            }
        }
        for kind: UInt8 in [0, 12, 0x80, 0xFF] {
            #expect(throws: OwnerStatementError.unknownKind(kind)) {
                try OwnerStatement(bytes: signed(kind: kind, subject: 32), mesh: mesh)
            }
        }
        for (kind, subject) in [(1, 16), (2, 0), (3, 16), (4, 32), (5, 32), (6, 16), (7, 32)] as [(UInt8, Int)] {
            #expect(throws: OwnerStatementError.self) {
                try OwnerStatement(bytes: signed(kind: kind, subject: subject), mesh: mesh)
            }
        }
        #expect((try? OwnerStatement(bytes: signed(kind: 4, subject: 16), mesh: mesh)) != nil)
    }

    // MARK: Merge laws

    @Test mutating func decisionsDependOnlyOnTheSetOfStatements() throws {
        for _ in 0..<150 {
            let scenario = scenario()
            let whole = ledger(scenario.founder, scenario.statements)
            checkInvariants(whole, scenario)
            // Statements of issuers that are not owners (removed, or granted only by those) decide nothing.
            let effective = ledger(scenario.founder, scenario.statements.filter { whole.isOwner($0.issuer) })
            #expect(effective.owners == whole.owners && effective.evicted == whole.evicted)
            #expect(effective.revokedInvites == whole.revokedInvites)
            for _ in 0..<3 {
                let shuffled = ledger(scenario.founder, scenario.statements.shuffled(using: &rng))
                #expect(Outcome(shuffled) == Outcome(whole) && shuffled == whole)
            }
            // A split where both halves hold every grant stores everything in each half.
            let grants = scenario.statements.filter { if case .addOwner = $0.decision { true } else { false } }
            let rest = scenario.statements.filter { if case .addOwner = $0.decision { false } else { true } }
            let cut = Int(rng.next() % UInt64(rest.count + 1))
            let first = ledger(scenario.founder, grants + rest.prefix(cut))
            let second = ledger(scenario.founder, (rest.dropFirst(cut) + grants).shuffled(using: &rng))
            #expect(Outcome(union(first, second)) == Outcome(whole))
            #expect(Outcome(union(second, first)) == Outcome(whole))
            // Any three-way split: commutative, associative, idempotent, a function of the union.
            var parts: [[OwnerStatement]] = [[], [], []]
            for statement in scenario.statements { parts[Int(rng.next() % 3)].append(statement) }
            let (a, b, c) = (
                ledger(scenario.founder, parts[0]), ledger(scenario.founder, parts[1]),
                ledger(scenario.founder, parts[2])
            )
            let ab = union(a, b)
            #expect(ab == union(b, a) && Outcome(ab) == Outcome(union(b, a)))
            #expect(ab == ledger(scenario.founder, (a.sorted + b.sorted).shuffled(using: &rng)))
            var twice = ab
            #expect(twice.merge(b.sorted).isEmpty && twice.merge(ab.sorted).isEmpty)
            #expect(twice == ab && union(ab, ab) == ab)
            let left = union(ab, c)
            let right = union(a, union(b, c))
            #expect(Outcome(left) == Outcome(right) && left == right)
            // Statements one side refused (grant not there yet) are stored once they are offered again.
            var healed = left
            healed.merge(scenario.statements.shuffled(using: &rng))
            #expect(Outcome(healed) == Outcome(whole))
        }
    }

    // MARK: Seniority

    @Test mutating func juniorsCannotRemoveOrEvictSeniorsHoweverTheyBackdate() {
        let founder = identity()
        let pair = identities(2)
        let (senior, junior) = (pair[0], pair[1])
        let deeper = identity()
        let tree = [
            sign(.addOwner(senior.signingKey), by: founder, at: .max),
            sign(.addOwner(junior.signingKey), by: founder, at: .max),
            sign(.addOwner(deeper.signingKey), by: senior, at: .max),
        ]
        var attacks: [OwnerStatement] = []
        for (attacker, targets) in [(junior, [founder, senior]), (deeper, [founder, senior, junior])] {
            for target in targets {
                attacks += [
                    sign(.removeOwner(target.signingKey), by: attacker, at: 0),
                    sign(.evict(node(target)), by: attacker, at: 0),
                ]
            }
        }
        for order in [tree + attacks, (attacks + tree).shuffled(using: &rng)] {
            let result = ledger(founder, order)
            #expect(result.owners == [founder, senior, junior, deeper].map(\.signingKey))
            #expect(result.evicted.isEmpty)
            #expect(result.count == tree.count + attacks.count)
        }
        // Not even the founder can unmake itself.
        let selfRemoval = [
            sign(.removeOwner(founder.signingKey), by: founder), sign(.evict(node(founder)), by: founder),
        ]
        let alone = ledger(founder, selfRemoval)
        #expect(alone.owners == [founder.signingKey] && alone.evicted.isEmpty)
    }

    @Test mutating func removingAJuniorVoidsItsGrantsAndDecisions() {
        let founder = identity()
        let (kept, removed, sole, shared, other) = (identity(), identity(), identity(), identity(), identity())
        let member = NodeID(bytes: bytes(32))!
        let invite = InviteID(bytes: bytes(InviteID.byteCount))!
        let statements = [
            sign(.addOwner(kept.signingKey), by: founder),
            sign(.addOwner(removed.signingKey), by: founder),
            sign(.addOwner(sole.signingKey), by: removed),
            sign(.addOwner(shared.signingKey), by: removed),
            sign(.addOwner(shared.signingKey), by: kept),
            sign(.addOwner(other.signingKey), by: kept),
            sign(.evict(member), by: removed),
            sign(.revokeInvite(invite), by: removed),
        ]
        let before = ledger(founder, statements)
        #expect(before.isOwner(removed.signingKey) && before.isOwner(sole.signingKey))
        #expect(before.evicted[member]?.by == removed.signingKey && before.revokedInvites == [invite])
        let removal = sign(.removeOwner(removed.signingKey), by: founder, at: 0)
        let after = ledger(founder, (statements + [removal]).shuffled(using: &rng))
        let depthTwo = [shared, other].map(\.signingKey).sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) }
        #expect(after.owners == [founder.signingKey, kept.signingKey] + depthTwo)
        #expect(after.evicted.isEmpty && after.revokedInvites.isEmpty)
        // Still stored, so every member converges on the same set; a late copy is still taken.
        #expect(after.count == statements.count + 1 && after.summary != before.summary)
        var late = ledger(founder, statements.prefix(2) + [removal])
        #expect(late.insert(statements[6]) == .added && late.insert(statements[2]) == .added)
        #expect(late.isEvicted(member) == false && late.owners == [founder.signingKey, kept.signingKey])
    }

    @Test mutating func evictingAJuniorOwnersNodeEndsItsOwnership() {
        let founder = identity()
        let (owner, junior) = (identity(), identity())
        #expect(node(junior) == junior.nodeID)
        let grants = [sign(.addOwner(owner.signingKey), by: founder), sign(.addOwner(junior.signingKey), by: owner)]
        let eviction = sign(.evict(node(junior)), by: owner, at: 5)
        let result = ledger(founder, [eviction] + grants)
        #expect(result.owners == [founder.signingKey, owner.signingKey])
        #expect(result.evicted == [node(junior): OwnerLedger.Eviction(by: owner.signingKey, at: 5)])
        // The founder evicting the owner's node takes the owner's grants and evictions with it.
        let top = ledger(founder, grants + [eviction, sign(.evict(node(owner)), by: founder, at: 7)])
        #expect(top.owners == [founder.signingKey])
        #expect(top.evicted == [node(owner): OwnerLedger.Eviction(by: founder.signingKey, at: 7)])
    }

    @Test mutating func strangersAreRefusedUntilTheirGrantArrives() {
        let founder = identity()
        let chain = (0..<3).map { _ in identity() }
        let member = NodeID(bytes: bytes(32))!
        let statements = [
            sign(.addOwner(chain[0].signingKey), by: founder),
            sign(.addOwner(chain[1].signingKey), by: chain[0]),
            sign(.addOwner(chain[2].signingKey), by: chain[1]),
            sign(.evict(member), by: chain[2]),
        ]
        var stepwise = OwnerLedger(mesh: mesh, founder: founder.signingKey)
        #expect(stepwise.insert(statements[1]) == .notAnOwner && stepwise.count == 0)
        #expect(stepwise.insert(statements[0]) == .added && stepwise.insert(statements[0]) == .known)
        #expect(stepwise.insert(statements[1]) == .added)
        let expected = ledger(founder, statements)
        #expect(expected.owners == [founder.signingKey] + chain.map(\.signingKey) && expected.isEvicted(member))
        func permutations(_ items: [OwnerStatement]) -> [[OwnerStatement]] {
            items.isEmpty
                ? [[]]
                : items.indices.flatMap { index in
                    var rest = items
                    let first = rest.remove(at: index)
                    return permutations(rest).map { [first] + $0 }
                }
        }
        let stranger = sign(.evict(node(founder)), by: identity())
        for order in permutations(statements) {
            var merged = OwnerLedger(mesh: mesh, founder: founder.signingKey)
            #expect(merged.merge(order + [stranger]).count == statements.count)
            #expect(merged == expected && merged.insert(stranger) == .notAnOwner)
        }
    }

    @Test mutating func statementsBeyondTheLimitAreRefused() {
        let founder = identity()
        let owner = identity()
        var ledger = OwnerLedger(mesh: mesh, founder: founder.signingKey)
        #expect(ledger.insert(sign(.addOwner(owner.signingKey), by: founder)) == .added)
        for _ in 1..<OwnerLedger.maxStatements {
            ledger.insert(sign(.revokeInvite(InviteID(bytes: bytes(InviteID.byteCount))!), by: founder))
        }
        #expect(ledger.count == OwnerLedger.maxStatements && ledger.revokedInvites.count == ledger.count - 1)
        let extra = sign(.evict(node(owner)), by: founder)
        #expect(ledger.insert(extra) == .full && ledger.merge([extra]).isEmpty)
        #expect(ledger.insert(ledger.sorted[0]) == .known)
        #expect(ledger.count == OwnerLedger.maxStatements && ledger.isOwner(owner.signingKey))
    }

    /// Removing an owner voids its grants, so what remains is decided as if they were never made:
    /// a removed owner's grant must not shorten its subject's distance from the founder (which
    /// would rank the subject above its real granter and so void the real grant).
    @Test mutating func removingAnOwnerUndoesTheSeniorityItsGrantsGave() {
        let founder = identity()
        let (honest, thief) = (identity(), identity())
        let pair = identities(2)
        let (subject, granter) = (pair[0], pair[1])  // the subject's key sorts first
        let statements = [
            sign(.addOwner(honest.signingKey), by: founder),
            sign(.addOwner(thief.signingKey), by: founder),
            sign(.addOwner(granter.signingKey), by: honest),
            sign(.addOwner(subject.signingKey), by: granter),
            sign(.addOwner(subject.signingKey), by: thief),
            sign(.removeOwner(thief.signingKey), by: founder),
        ]
        let honestTree = ledger(founder, statements.filter { $0.issuer != thief.signingKey })
        #expect(honestTree.owners == [founder, honest, granter, subject].map(\.signingKey))
        #expect(ledger(founder, statements).owners == honestTree.owners)
    }
}
