/// Members' IPv4 overlay addresses: an owner picks each one and signs it into the member's
/// admission, and every member computes from the claims it holds who has which address.
///
/// IPv4 prefixes are small (a /16 has 65,534 addresses), so unlike the IPv6 address, a hash of
/// the key cannot be the address: keys would collide, and a node could grind keys until it
/// hashes onto a victim's address. The hash only proposes (`IPv4Allocation.proposal`); the
/// owner skips what it knows is taken, and its signature is what makes the address count.
///
/// Two owners can still hand out one address at once (or on two sides of a partition). The
/// rule every member applies, from the signed claims alone:
///
/// 1. a member's claim is its newest one (highest issue time, then smallest statement id): a
///    newer admission by an owner moves it;
/// 2. its precedence on that address is its earliest claim of the same address, so admitting a
///    member again with the address it has keeps its rank;
/// 3. among members whose claims name one address, the earliest precedence (issue time, then
///    statement id) holds it; the others are displaced and have no IPv4 address until an owner
///    admits them again with a free one (`MeshNode` does that by itself, docs/addressing.md).
///
/// The issue time is the owner's clock: an owner who backdates can take an address from a
/// member, which an owner can do anyway by evicting it. Removing that owner voids its claims.
public struct IPv4Assignment: Equatable, Sendable {
    /// One owner-signed address for a member, from an admission (carried or in the ledger).
    public struct Claim: Hashable, Sendable {
        public let member: SigningPublicKey
        public let address: IPv4Address
        /// The issuing owner's clock, milliseconds since 1970.
        public let issuedAt: UInt64
        public let statementID: [UInt8]

        public init(member: SigningPublicKey, address: IPv4Address, issuedAt: UInt64, statementID: [UInt8]) {
            self.member = member
            self.address = address
            self.issuedAt = issuedAt
            self.statementID = statementID
        }

        /// The claim an admit statement makes, if it names an address.
        public init?(_ statement: OwnerStatement) {
            guard case .admit(let admission) = statement.decision, let address = admission.ipv4 else { return nil }
            self.init(
                member: admission.member, address: address, issuedAt: statement.issuedAt, statementID: statement.id)
        }

        func isEarlier(than other: Claim) -> Bool {
            issuedAt != other.issuedAt
                ? issuedAt < other.issuedAt : statementID.lexicographicallyPrecedes(other.statementID)
        }
    }

    /// Why a member has no IPv4 address.
    public enum Missing: Equatable, Sendable {
        /// Its admission names none (made before the mesh had IPv4, or by an older owner).
        case unassigned
        /// Another member holds the address its newest claim names, by an earlier claim.
        case displaced(address: IPv4Address, holder: SigningPublicKey)
    }

    public let prefix: IPPrefix
    public private(set) var addresses: [SigningPublicKey: IPv4Address] = [:]
    public private(set) var missing: [SigningPublicKey: Missing] = [:]

    /// The assignment among `members` (the present ones), from every claim that counts: made
    /// by a current owner, for an address inside `prefix` that a host may use. Claims of other
    /// keys are ignored. A pure function of the two sets, whatever their order.
    public init(prefix: IPPrefix, members: some Sequence<SigningPublicKey>, claims: some Sequence<Claim>) {
        self.prefix = prefix
        let memberSet = Set(members)
        var byMember: [SigningPublicKey: [Claim]] = [:]
        for claim in claims where memberSet.contains(claim.member) && IPv4Allocation.isHost(claim.address, in: prefix) {
            byMember[claim.member, default: []].append(claim)
        }
        // (1) and (2): each member's address, ranked by its earliest claim of that address.
        var contenders: [IPv4Address: [(member: SigningPublicKey, rank: Claim)]] = [:]
        for member in memberSet {
            guard let claims = byMember[member], var newest = claims.first else {
                missing[member] = .unassigned
                continue
            }
            for claim in claims where newest.isEarlier(than: claim) { newest = claim }
            var rank = newest
            for claim in claims where claim.address == newest.address && claim.isEarlier(than: rank) { rank = claim }
            contenders[newest.address, default: []].append((member, rank))
        }
        // (3): the earliest holds the address.
        for (address, claimants) in contenders {
            var winner = claimants[0]
            for claimant in claimants.dropFirst() where claimant.rank.isEarlier(than: winner.rank) { winner = claimant }
            addresses[winner.member] = address
            for claimant in claimants where claimant.member != winner.member {
                missing[claimant.member] = .displaced(address: address, holder: winner.member)
            }
        }
    }

    public func address(of member: SigningPublicKey) -> IPv4Address? { addresses[member] }

    /// Who holds each address (no two members hold one).
    public var holders: [IPv4Address: SigningPublicKey] {
        Dictionary(addresses.map { ($0.value, $0.key) }, uniquingKeysWith: { first, _ in first })
    }
}

/// How an owner picks a member's IPv4 address: the hash proposal, then the next free host
/// address. Test vectors are in docs/addressing.md.
public enum IPv4Allocation {
    static let proposalDomain: [UInt8] = Array("smegmesh/v1/ipv4-proposal".utf8) + [0]

    /// The number of host addresses in `prefix` (the network and broadcast addresses excluded).
    static func hostCount(of prefix: IPPrefix) -> UInt32 {
        let bits = UInt32(32 - min(max(prefix.length, 0), 30))
        return (UInt32(1) << bits) &- 2
    }

    static func network(of prefix: IPPrefix) -> UInt32 {
        guard case .v4(let address) = prefix.address else { return 0 }
        return address.value
    }

    /// Whether `address` is a host address of `prefix`: inside it, not its network address nor
    /// its broadcast address.
    public static func isHost(_ address: IPv4Address, in prefix: IPPrefix) -> Bool {
        guard case .v4 = prefix.address, prefix.length <= 30, prefix.contains(.v4(address)) else { return false }
        let offset = address.value &- network(of: prefix)
        return offset >= 1 && offset <= hostCount(of: prefix)
    }

    /// The proposed address of `member` in `prefix`: host number
    /// `1 + (first 4 bytes of BLAKE2b-256(domain ‖ mesh id ‖ signing key), big-endian) mod hosts`.
    public static func proposal(mesh: MeshID, member: SigningPublicKey, prefix: IPPrefix) -> IPv4Address {
        let digest = Sodium.blake2b([proposalDomain, mesh.bytes, member.bytes], outputLength: 32)
        let word = digest.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        return IPv4Address(network(of: prefix) &+ 1 &+ word % max(hostCount(of: prefix), 1))
    }

    /// The proposal, or the first host address after it (wrapping) that is not in `taken`; nil
    /// when the prefix is full.
    public static func allocate(
        mesh: MeshID, member: SigningPublicKey, prefix: IPPrefix, taken: Set<IPv4Address>
    ) -> IPv4Address? {
        let hosts = hostCount(of: prefix)
        guard hosts > 0 else { return nil }
        let base = network(of: prefix)
        let start = proposal(mesh: mesh, member: member, prefix: prefix).value &- base &- 1
        var step: UInt32 = 0
        while step < hosts {
            let candidate = IPv4Address(base &+ 1 &+ (start &+ step) % hosts)
            if !taken.contains(candidate) { return candidate }
            step += 1
        }
        return nil
    }
}
