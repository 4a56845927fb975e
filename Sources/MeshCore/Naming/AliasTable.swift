import GossipCRDT

/// Who owns which host name in one mesh: every member's short id, and the aliases members claim
/// for themselves, reduced to names that each belong to exactly one member.
///
/// An alias is self-chosen in the member's own signed record, so nothing stops two members, or
/// a hostile member and its victim, from claiming the same one, or a member from claiming
/// another's short id. Names are looked up by people and programs that trust the answer, so the
/// rule must give every name at most one owner, and every node must reach the same owners from
/// the same present records without talking to anyone. Hence a pure function of the claims:
///
/// 1. A member's short id (its key's first 8 hex digits, `NodeID.description`) is its name,
///    unless another present member has the same short id: then the id names neither. Short ids
///    are not chosen, so two honest members share one with probability about n²/2³³; a shared one
///    is almost surely a ground key, and voiding it lets an attacker hide a victim's short id
///    (after ~2³² key generations) but never answer for it.
/// 2. An alias that is not a lowercase DNS label, or that is shaped like a short id (exactly 8
///    of `0-9a-f`), is void. The shape rule rather than "equals a present member's short id"
///    keeps an alias from being taken away later by a member that joins with that short id,
///    and makes the two kinds of name disjoint by construction.
/// 3. Among members claiming the same remaining alias, the one with the lowest key holds it;
///    the others have none. Lowest key is the one order every node already agrees on (leader
///    election uses it).
///
/// Limits: keys are self-generated and anyone with the mesh secret can join under a new one,
/// so a hostile member takes a contested alias in a few tries (a random key is below a given
/// one half the time). The rule guarantees one owner per name, not the rightful one; short ids
/// cannot be taken, and `MemberView`/`smegctl get` show every void claim. Binding keys to
/// admissions is what stops the grinding.
public struct AliasTable: Equatable, Sendable {
    /// Why a member's claimed alias is not its name.
    public enum Refusal: Equatable, Sendable, CustomStringConvertible {
        /// Not a lowercase DNS label (records that pass validation never have one).
        case notALabel
        /// Exactly 8 lowercase hex digits: the shape of a short id, which names a member by key.
        case shapedLikeShortID
        /// Another member with a lower key claims it too and holds it.
        case heldBy(NodeID)

        public var description: String {
            switch self {
            case .notALabel: return "not a lowercase DNS label"
            case .shapedLikeShortID: return "shaped like a short id (8 hex digits)"
            case .heldBy(let holder): return "held by \(holder), which has a lower key"
            }
        }
    }

    /// A claim that did not become a name.
    public struct VoidClaim: Equatable, Sendable {
        public var alias: String
        public var refusal: Refusal
    }

    /// Held aliases by member; a member without one is absent.
    public let aliases: [NodeID: String]
    /// Claims that gave no name, by member.
    public let voidClaims: [NodeID: VoidClaim]
    /// Every name (held alias or unshared short id) → its one member.
    private let owners: [String: NodeID]

    /// `claims` has every present member, with the alias its record claims ("" for none).
    public init(claims: [NodeID: String]) {
        var byShortID: [String: [NodeID]] = [:]
        var claimants: [String: [NodeID]] = [:]
        var voidClaims: [NodeID: VoidClaim] = [:]
        for (id, alias) in claims {
            byShortID[Self.shortID(of: id), default: []].append(id)
            if alias.isEmpty { continue }
            if !DNSName.isValidLabel(alias.utf8) {
                voidClaims[id] = VoidClaim(alias: alias, refusal: .notALabel)
            } else if Self.isShapedLikeShortID(alias) {
                voidClaims[id] = VoidClaim(alias: alias, refusal: .shapedLikeShortID)
            } else {
                claimants[alias, default: []].append(id)
            }
        }
        var owners: [String: NodeID] = [:]
        for (shortID, ids) in byShortID where ids.count == 1 { owners[shortID] = ids[0] }
        var aliases: [NodeID: String] = [:]
        for (alias, ids) in claimants {
            let holder = ids.min()!
            aliases[holder] = alias
            owners[alias] = holder
            for id in ids where id != holder { voidClaims[id] = VoidClaim(alias: alias, refusal: .heldBy(holder)) }
        }
        self.aliases = aliases
        self.voidClaims = voidClaims
        self.owners = owners
    }

    /// The alias `id` holds, if any.
    public func alias(of id: NodeID) -> String? { aliases[id] }

    /// The member a host label names (a held alias or an unshared short id), if any. Labels are
    /// compared exactly: DNS callers lowercase first.
    public func owner(of name: String) -> NodeID? { owners[name] }

    /// The names of `id`: its alias first when it holds one, then its short id unless shared.
    public func names(of id: NodeID) -> [String] {
        let shortID = Self.shortID(of: id)
        return [aliases[id], owners[shortID] == id ? shortID : nil].compactMap { $0 }
    }

    /// The short id a member is shown and resolved by.
    public static func shortID(of id: NodeID) -> String { id.description }

    /// Exactly 8 of `0-9a-f`: every such label is some key's short id, so no alias may have it.
    public static func isShapedLikeShortID(_ label: String) -> Bool {
        let utf8 = label.utf8
        return utf8.count == 8
            && utf8.allSatisfy {
                ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9"))
                    || ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "f"))
            }
    }
}
