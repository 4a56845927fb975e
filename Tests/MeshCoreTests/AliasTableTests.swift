import GossipCRDT
import Testing

@testable import MeshCore

/// The naming rule over generated memberships in which members collide on purpose: shared short
/// ids, shared aliases, aliases equal to other members' short ids, invalid labels.
@Suite struct AliasTableTests {
    /// A membership whose claims collide often: few short-id prefixes, a small alias pool that
    /// includes other members' short ids.
    static func claims(_ rng: inout SplitMix64) -> [NodeID: String] {
        let prefixes = (0..<4).map { _ in rng.next() & 0xFFFF_FFFF_0000_0000 }
        var ids: [NodeID] = []
        for _ in 0..<Int(rng.next() % 16) + 1 {
            let high = rng.next() % 3 == 0 ? prefixes[Int(rng.next() % 4)] | rng.next() >> 32 : rng.next()
            ids.append(NodeID(high, rng.next(), rng.next(), rng.next()))
        }
        var pool = ["", "", "web", "db", "alpha", "deadbeef", "12345678", "Web", "-x", "a1b2c3d4e", "cafe-01"]
        pool += ids.map(AliasTable.shortID)
        var claims: [NodeID: String] = [:]
        for id in ids { claims[id] = pool[Int(rng.next() % UInt64(pool.count))] }
        return claims
    }

    static func forEachMembership(
        _ count: Int = 500, seed: UInt64, _ body: ([NodeID: String], inout SplitMix64) -> Void
    ) {
        var rng = SplitMix64(seed: seed)
        for _ in 0..<count {
            let claims = Self.claims(&rng)
            body(claims, &rng)
        }
    }

    @Test func theTableDependsOnTheClaimsNotTheirOrder() {
        Self.forEachMembership(seed: 11) { claims, rng in
            let table = AliasTable(claims: claims)
            var pairs = Array(claims)
            pairs.shuffle(using: &rng)
            var rebuilt: [NodeID: String] = [:]
            for (id, alias) in pairs { rebuilt[id] = alias }
            #expect(AliasTable(claims: rebuilt) == table)
            #expect(AliasTable(claims: claims) == table)
            for id in claims.keys { #expect(AliasTable(claims: rebuilt).names(of: id) == table.names(of: id)) }
        }
    }

    @Test func everyNameHasOneMemberAndResolvesToIt() {
        Self.forEachMembership(seed: 12) { claims, _ in
            let table = AliasTable(claims: claims)
            var seen: [String: NodeID] = [:]
            for id in claims.keys {
                for name in table.names(of: id) {
                    #expect(seen.updateValue(id, forKey: name) == nil, "\(name) named twice")
                    #expect(table.owner(of: name) == id)
                }
            }
            for alias in Set(claims.values) where table.owner(of: alias) != nil {
                #expect(seen[alias] == table.owner(of: alias))
            }
        }
    }

    @Test func aShortIdNamesItsOwnMemberOrNoOne() {
        Self.forEachMembership(seed: 13) { claims, _ in
            let table = AliasTable(claims: claims)
            for id in claims.keys {
                let shortID = AliasTable.shortID(of: id)
                let sharers = claims.keys.filter { AliasTable.shortID(of: $0) == shortID }
                #expect(table.owner(of: shortID) == (sharers.count == 1 ? id : nil))
                #expect(table.aliases.values.allSatisfy { $0 != shortID })
            }
        }
    }

    /// The rule restated as a model: an alias names its claimant when it is valid, not short-id
    /// shaped, and claimed by no one else; a contested one names nobody.
    @Test func aliasesNameTheirOneClaimantAndAContestedOneNamesNobody() {
        Self.forEachMembership(seed: 14) { claims, _ in
            let table = AliasTable(claims: claims)
            for (id, alias) in claims {
                let usable =
                    !alias.isEmpty && DNSName.isValidLabel(alias.utf8) && !AliasTable.isShapedLikeShortID(alias)
                let claimants = claims.filter { $0.value == alias }.keys.sorted()
                let holds = usable && claimants == [id]
                #expect(table.alias(of: id) == (holds ? alias : nil))
                if usable { #expect(table.owner(of: alias) == (holds ? id : nil)) }
                #expect(table.claimants(of: alias) == (usable && claimants.count > 1 ? claimants : []))
                switch table.voidClaims[id]?.refusal {
                case nil: #expect(holds || alias.isEmpty)
                case .notALabel: #expect(!DNSName.isValidLabel(alias.utf8))
                case .shapedLikeShortID: #expect(AliasTable.isShapedLikeShortID(alias))
                case .contested(let other):
                    #expect(usable && other == claimants.first { $0 != id })
                    #expect(table.voidClaims[other] != nil && table.alias(of: other) == nil)
                }
            }
        }
    }

    /// A second claimant, whatever its key, voids the name for the holder and for itself: a
    /// newcomer can take a name away, never take it over.
    @Test func aSecondClaimantVoidsTheNameForBoth() {
        Self.forEachMembership(seed: 15) { claims, rng in
            let table = AliasTable(claims: claims)
            guard let (holder, alias) = table.aliases.first else { return }
            var grown = claims
            let newcomer = NodeID(rng.next(), rng.next(), rng.next(), rng.next())
            guard claims[newcomer] == nil else { return }
            grown[newcomer] = alias
            let after = AliasTable(claims: grown)
            #expect(after.owner(of: alias) == nil)
            #expect(after.alias(of: holder) == nil && after.alias(of: newcomer) == nil)
            #expect(after.voidClaims[holder] == AliasTable.VoidClaim(alias: alias, refusal: .contested(with: newcomer)))
            #expect(after.voidClaims[newcomer] == AliasTable.VoidClaim(alias: alias, refusal: .contested(with: holder)))
            #expect(after.claimants(of: alias) == [holder, newcomer].sorted())
            // Everyone else keeps the names they had.
            for id in claims.keys where id != holder { #expect(after.alias(of: id) == table.alias(of: id)) }
            // And when the newcomer leaves, the holder has the name back.
            grown[newcomer] = nil
            #expect(AliasTable(claims: grown) == table)
        }
    }

    @Test func shortIdShapeIsExactlyEightLowercaseHexDigits() {
        for label in ["deadbeef", "00000000", "12345678", "a1b2c3d4"] { #expect(AliasTable.isShapedLikeShortID(label)) }
        for label in ["deadbeeg", "DEADBEEF", "1234567", "123456789", "dead-bee", "", "web"] {
            #expect(!AliasTable.isShapedLikeShortID(label))
        }
        var rng = SplitMix64(seed: 16)
        for _ in 0..<1_000 {
            let id = NodeID(rng.next(), rng.next(), rng.next(), rng.next())
            #expect(AliasTable.isShapedLikeShortID(AliasTable.shortID(of: id)))
        }
    }

    @Test func examplesOfEachRefusal() {
        let low = NodeID(0x1000_0000 << 32, 0, 0, 0)
        let high = NodeID(0x2000_0000 << 32, 0, 0, 0)
        let third = NodeID(0x3000_0000 << 32, 0, 0, 0)
        let thief = NodeID(0x4000_0000 << 32, 0, 0, 0)
        let table = AliasTable(claims: [low: "web", high: "web", third: "web", thief: "10000000"])
        #expect(table.names(of: low) == ["10000000"])
        #expect(table.names(of: high) == ["20000000"])
        #expect(table.names(of: thief) == ["40000000"])
        #expect(table.owner(of: "web") == nil && table.aliases.isEmpty)
        #expect(table.voidClaims[low] == AliasTable.VoidClaim(alias: "web", refusal: .contested(with: high)))
        #expect(table.voidClaims[high] == AliasTable.VoidClaim(alias: "web", refusal: .contested(with: low)))
        #expect(table.voidClaims[third] == AliasTable.VoidClaim(alias: "web", refusal: .contested(with: low)))
        #expect(table.claimants(of: "web") == [low, high, third] && table.claimants(of: "10000000").isEmpty)
        #expect(table.voidClaims[thief] == AliasTable.VoidClaim(alias: "10000000", refusal: .shapedLikeShortID))
        #expect("\(AliasTable.Refusal.contested(with: low))" == "contested by 10000000, so void for every claimant")
        #expect(AliasTable(claims: [low: "web", high: "db"]).names(of: low) == ["web", "10000000"])

        let twin = NodeID(0x1000_0000 << 32, 1, 0, 0)
        let shared = AliasTable(claims: [low: "", twin: "db"])
        #expect(shared.owner(of: "10000000") == nil)
        #expect(shared.names(of: low).isEmpty && shared.names(of: twin) == ["db"])
    }
}
