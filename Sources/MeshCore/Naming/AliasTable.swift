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
/// 3. An alias that more than one present member claims is void for all of them: it names no
///    one until only one claimant is left. Any rule that picks one claimant by something a
///    member chooses (lowest key was the old one) lets anyone holding the mesh secret take a
///    victim's name, since keys are self-generated and a random key is lower than a given one
///    half the time; lookups would then go to the attacker without any sign. A name that
///    answers for an attacker redirects traffic silently; a name that stops answering is
///    visible (`smegctl get` and `smegctl status` list the contest, from every claimant's side)
///    and harms only the name. So a contest costs the victim its alias, never its traffic.
///
/// Limits: a member with the mesh secret can still deny anyone an alias by claiming it too, and
/// can hide a short id after ~2³² key generations; it can never answer for another member's
/// name. Owner admissions (binding keys to who admitted them) are what will let the rightful
/// holder keep a contested alias.
public struct AliasTable: Equatable, Sendable {
    /// Why a member's claimed alias is not its name.
    public enum Refusal: Equatable, Sendable, CustomStringConvertible {
        /// Not a lowercase DNS label (records that pass validation never have one).
        case notALabel
        /// Exactly 8 lowercase hex digits: the shape of a short id, which names a member by key.
        case shapedLikeShortID
        /// Other present members claim it too, so it names none of them; `with` is the lowest
        /// other claimant, the same one on every node (`AliasTable.claimants(of:)` has them all).
        case contested(with: NodeID)

        public var description: String {
            switch self {
            case .notALabel: return "not a lowercase DNS label"
            case .shapedLikeShortID: return "shaped like a short id (8 hex digits)"
            case .contested(let other): return "contested by \(other), so void for every claimant"
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
    /// Aliases claimed by more than one member → every claimant, ascending.
    private let contests: [String: [NodeID]]

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
        var contests: [String: [NodeID]] = [:]
        for (alias, ids) in claimants {
            if ids.count == 1 {
                aliases[ids[0]] = alias
                owners[alias] = ids[0]
                continue
            }
            let sorted = ids.sorted()
            contests[alias] = sorted
            for id in ids {
                let lowestOther = sorted[0] == id ? sorted[1] : sorted[0]
                voidClaims[id] = VoidClaim(alias: alias, refusal: .contested(with: lowestOther))
            }
        }
        self.aliases = aliases
        self.voidClaims = voidClaims
        self.owners = owners
        self.contests = contests
    }

    /// The alias `id` holds, if any.
    public func alias(of id: NodeID) -> String? { aliases[id] }

    /// The member a host label names (a held alias or an unshared short id), if any. Labels are
    /// compared exactly: DNS callers lowercase first.
    public func owner(of name: String) -> NodeID? { owners[name] }

    /// Every member claiming `alias` when more than one does (ascending), else empty: who the
    /// operator has to talk to before the name answers again.
    public func claimants(of alias: String) -> [NodeID] { contests[alias] ?? [] }

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
