import GossipCRDT
import Testing

@testable import MeshCore

/// The IPv4 address rule of docs/addressing.md ("IPv4 overlay addresses"): proposals, the
/// owner's allocation, and the assignment every member computes from the signed claims.
@Suite struct IPv4AssignmentTests {
    static let tiny = IPPrefix("10.9.0.16/28")!
    static let members: [SigningPublicKey] = (0..<40).map { index in
        try! NodeIdentity(seed: [UInt8(index)] + [UInt8](repeating: 0x33, count: 31)).signingKey
    }

    static func claim(_ member: Int, _ address: String, at time: UInt64, id: UInt8 = 0) -> IPv4Assignment.Claim {
        IPv4Assignment.Claim(
            member: members[member], address: IPv4Address(address)!, issuedAt: time,
            statementID: [id, UInt8(member)] + [UInt8](repeating: 0, count: 14))
    }

    // MARK: Proposal and allocation

    /// docs/addressing.md lists these; they were computed with Python's hashlib.
    @Test func proposalVectors() throws {
        let vectors: [(seed: UInt8, prefix: String, expected: String)] = [
            (0, "100.64.0.0/16", IPv4AssignmentTests.vector0),
            (1, "100.64.0.0/16", IPv4AssignmentTests.vector1),
            (0, "10.9.0.16/28", IPv4AssignmentTests.vector2),
        ]
        for vector in vectors {
            let key = try NodeIdentity(seed: [UInt8](repeating: vector.seed, count: 32)).signingKey
            let proposal = IPv4Allocation.proposal(mesh: Fixtures.mesh1, member: key, prefix: IPPrefix(vector.prefix)!)
            #expect("\(proposal)" == vector.expected, "seed \(vector.seed) in \(vector.prefix)")
        }
    }

    static let vector0 = "100.64.241.208"
    static let vector1 = "100.64.28.65"
    static let vector2 = "10.9.0.26"

    @Test func hostAddressesExcludeTheNetworkAndBroadcastAddresses() {
        #expect(!IPv4Allocation.isHost(IPv4Address("10.9.0.16")!, in: Self.tiny))
        #expect(IPv4Allocation.isHost(IPv4Address("10.9.0.17")!, in: Self.tiny))
        #expect(IPv4Allocation.isHost(IPv4Address("10.9.0.30")!, in: Self.tiny))
        #expect(!IPv4Allocation.isHost(IPv4Address("10.9.0.31")!, in: Self.tiny))
        #expect(!IPv4Allocation.isHost(IPv4Address("10.9.0.32")!, in: Self.tiny))
        #expect(!IPv4Allocation.isHost(IPv4Address("10.9.0.17")!, in: IPPrefix("fd00::/64")!))
    }

    /// Every proposal is a host address, and allocation fills the whole prefix without a
    /// repeat, then says it is full.
    @Test func allocationFillsThePrefixThenStops() {
        var taken = Set<IPv4Address>()
        for member in Self.members.prefix(14) {
            #expect(
                IPv4Allocation.isHost(
                    IPv4Allocation.proposal(mesh: Fixtures.mesh1, member: member, prefix: Self.tiny), in: Self.tiny))
            let address = IPv4Allocation.allocate(mesh: Fixtures.mesh1, member: member, prefix: Self.tiny, taken: taken)
            #expect(address != nil)
            if let address {
                #expect(IPv4Allocation.isHost(address, in: Self.tiny))
                #expect(taken.insert(address).inserted)
            }
        }
        #expect(taken.count == 14)
        #expect(
            IPv4Allocation.allocate(mesh: Fixtures.mesh1, member: Self.members[20], prefix: Self.tiny, taken: taken)
                == nil)
    }

    /// The proposal, when free, is what allocation gives: a key alone cannot pick another.
    @Test func aFreeProposalIsTaken() {
        for member in Self.members {
            let proposal = IPv4Allocation.proposal(mesh: Fixtures.mesh1, member: member, prefix: Self.tiny)
            #expect(
                IPv4Allocation.allocate(mesh: Fixtures.mesh1, member: member, prefix: Self.tiny, taken: []) == proposal)
        }
    }

    // MARK: The assignment rule

    @Test func theEarlierClaimHoldsAndTheLaterIsDisplaced() {
        let claims = [Self.claim(0, "10.9.0.20", at: 100), Self.claim(1, "10.9.0.20", at: 50)]
        let assignment = IPv4Assignment(prefix: Self.tiny, members: Self.members.prefix(2), claims: claims)
        #expect(assignment.address(of: Self.members[1]) == IPv4Address("10.9.0.20"))
        #expect(assignment.address(of: Self.members[0]) == nil)
        #expect(
            assignment.missing[Self.members[0]]
                == .displaced(address: IPv4Address("10.9.0.20")!, holder: Self.members[1]))
    }

    @Test func equalTimesAreSettledByTheStatementID() {
        let claims = [Self.claim(0, "10.9.0.20", at: 100, id: 2), Self.claim(1, "10.9.0.20", at: 100, id: 1)]
        let assignment = IPv4Assignment(prefix: Self.tiny, members: Self.members.prefix(2), claims: claims)
        #expect(assignment.address(of: Self.members[1]) == IPv4Address("10.9.0.20"))
    }

    /// A newer admission moves a member; one that names the address it has keeps its rank, so
    /// admitting a member again (an owner removed) cannot cost it its address.
    @Test func aNewerClaimMovesAndARepeatedOneKeepsTheRank() {
        var claims = [Self.claim(0, "10.9.0.20", at: 100), Self.claim(0, "10.9.0.21", at: 300)]
        var assignment = IPv4Assignment(prefix: Self.tiny, members: Self.members.prefix(1), claims: claims)
        #expect(assignment.address(of: Self.members[0]) == IPv4Address("10.9.0.21"))
        claims = [
            Self.claim(0, "10.9.0.20", at: 100), Self.claim(1, "10.9.0.20", at: 200),
            Self.claim(0, "10.9.0.20", at: 900, id: 9),
        ]
        assignment = IPv4Assignment(prefix: Self.tiny, members: Self.members.prefix(2), claims: claims)
        #expect(assignment.address(of: Self.members[0]) == IPv4Address("10.9.0.20"))
        #expect(assignment.address(of: Self.members[1]) == nil)
    }

    @Test func claimsOutsideThePrefixOrOfOtherKeysCountForNothing() {
        let claims = [
            Self.claim(0, "10.9.0.16", at: 1), Self.claim(1, "10.9.0.31", at: 1), Self.claim(2, "10.9.1.17", at: 1),
            Self.claim(5, "10.9.0.17", at: 1),
        ]
        let assignment = IPv4Assignment(prefix: Self.tiny, members: Self.members.prefix(3), claims: claims)
        #expect(assignment.addresses.isEmpty)
        #expect(assignment.missing.count == 3)
        #expect(assignment.missing.values.allSatisfy { $0 == .unassigned })
    }

    /// Properties over random claim sets: the assignment is a function of the sets (any order),
    /// no two members hold one address, a holder's address is its newest claim, and every
    /// member either holds an address or is missing one, never both.
    @Test func randomClaimSetsObeyTheRule() {
        var rng = SplitMix64(seed: 17)
        for _ in 0..<300 {
            let memberCount = Int.random(in: 1...20, using: &rng)
            let members = Array(Self.members.prefix(memberCount))
            var claims: [IPv4Assignment.Claim] = []
            for index in 0..<Int.random(in: 0...40, using: &rng) {
                let member = Int.random(in: 0..<min(memberCount + 3, Self.members.count), using: &rng)
                claims.append(
                    Self.claim(
                        member, "10.9.0.\(Int.random(in: 15...33, using: &rng))",
                        at: UInt64.random(in: 0...20, using: &rng),
                        id: UInt8(index)))
            }
            let assignment = IPv4Assignment(prefix: Self.tiny, members: members, claims: claims)
            let shuffled = IPv4Assignment(
                prefix: Self.tiny, members: members.shuffled(using: &rng), claims: claims.shuffled(using: &rng))
            #expect(assignment == shuffled)
            #expect(Set(assignment.addresses.values).count == assignment.addresses.count)
            for member in members {
                #expect((assignment.addresses[member] == nil) != (assignment.missing[member] == nil))
            }
            for (member, address) in assignment.addresses {
                let own = claims.filter { $0.member == member && IPv4Allocation.isHost($0.address, in: Self.tiny) }
                let newest = own.max { $1.isEarlier(than: $0) == false && $0.isEarlier(than: $1) }
                #expect(newest?.address == address)
                #expect(assignment.holders[address] == member)
            }
        }
    }

    /// The case: a /28, 12 members, two owners admitting at once without seeing each
    /// other's admissions. Every merge order gives one assignment; only conflict losers lack
    /// the address their owner gave; once the steward admits them again with free addresses,
    /// all 12 have distinct ones and nobody else moved.
    @Test func twoOwnersAdmittingAtOnceConvergeAndOnlyLosersMove() {
        let members = Array(Self.members.prefix(12))
        var claims: [IPv4Assignment.Claim] = []
        for (side, range) in [(0, 0..<6), (1, 6..<12)] {
            var taken = Set<IPv4Address>()
            for index in range {
                let address = IPv4Allocation.allocate(
                    mesh: Fixtures.mesh1, member: members[index], prefix: Self.tiny, taken: taken)!
                taken.insert(address)
                claims.append(Self.claim(index, "\(address)", at: 1000 + UInt64(index % 6), id: UInt8(side)))
            }
        }
        var rng = SplitMix64(seed: 5)
        let first = IPv4Assignment(prefix: Self.tiny, members: members, claims: claims)
        for _ in 0..<50 {
            let other = IPv4Assignment(
                prefix: Self.tiny, members: members.shuffled(using: &rng), claims: claims.shuffled(using: &rng))
            #expect(other == first)
        }
        let displaced = first.missing.keys
        #expect(!displaced.isEmpty, "the fixture must contain a conflict")
        for claim in claims where first.missing[claim.member] == nil {
            #expect(first.addresses[claim.member] == claim.address)
        }
        // The steward admits every loser again with an address none of the claims names.
        var taken = Set(claims.map(\.address))
        var readmissions: [IPv4Assignment.Claim] = []
        for member in displaced.sorted(by: { $0.bytes.lexicographicallyPrecedes($1.bytes) }) {
            let address = IPv4Allocation.allocate(
                mesh: Fixtures.mesh1, member: member, prefix: Self.tiny, taken: taken)!
            taken.insert(address)
            let index = members.firstIndex(of: member)!
            readmissions.append(Self.claim(index, "\(address)", at: 5000, id: 7))
        }
        let settled = IPv4Assignment(prefix: Self.tiny, members: members, claims: claims + readmissions)
        #expect(settled.addresses.count == 12)
        #expect(settled.missing.isEmpty)
        for (member, address) in first.addresses { #expect(settled.addresses[member] == address) }
    }
}

@Suite struct IPv4PrefixChoiceTests {
    @Test func theDefaultIsAFreeSlash16OfTheSharedSpace() {
        let candidates = IPv4PrefixChoice.candidates(for: Fixtures.mesh1)
        #expect(candidates.count == 64)
        #expect(Set(candidates).count == 64)
        #expect(candidates.allSatisfy { IPv4PrefixChoice.sharedSpace.covers($0) && $0.length == 16 })
        #expect(IPv4PrefixChoice.defaultPrefix(for: Fixtures.mesh1, avoiding: []) == candidates[0])
        #expect("\(candidates[0])" == IPv4PrefixChoiceTests.firstCandidate)
    }

    static let firstCandidate = "100.102.0.0/16"

    @Test func overlappingNetworksAreSkippedAndDefaultRoutesIgnored() {
        let candidates = IPv4PrefixChoice.candidates(for: Fixtures.mesh1)
        let inUse: [IPv4PrefixChoice.InUse] = [
            .init(prefix: IPPrefix("0.0.0.0/0")!, what: "default"),
            .init(prefix: IPPrefix(address: candidates[0].address, length: 24)!, what: "address on eth0"),
            .init(prefix: IPPrefix(containing: candidates[1].address, length: 16)!, what: "route"),
        ]
        let chosen = IPv4PrefixChoice.defaultPrefix(for: Fixtures.mesh1, avoiding: inUse)
        #expect(chosen == candidates[2])
        #expect(IPv4PrefixChoice.overlaps(candidates[0], inUse).map(\.what) == ["address on eth0"])
    }

    @Test func aHostThatRoutesTheWholeSharedSpaceHasNoDefault() {
        let inUse = [
            IPv4PrefixChoice.InUse(prefix: IPv4PrefixChoice.sharedSpace, what: "route 100.64.0.0/10 dev cgnat")
        ]
        #expect(IPv4PrefixChoice.defaultPrefix(for: Fixtures.mesh1, avoiding: inUse) == nil)
    }
}
