import CMnl
import MeshCore

#if canImport(Glibc)
    import Glibc
#endif

/// One policy-routing rule (`ip rule`), as far as smegmesh uses them: pick a table, optionally
/// for packets without (or with) a firewall mark, optionally ignoring routes of a short prefix.
///
/// An exit node's default route cannot go into the main table: WireGuard's own encrypted
/// packets to the peers' endpoints would then be routed into the tunnel too. As wg-quick does,
/// the route goes into a table of its own, used only for packets that do not carry WireGuard's
/// firewall mark, and a rule before it keeps every more specific main-table route (the LAN,
/// the mesh, the endpoints' networks) in charge.
public struct RoutingRule: Hashable, Sendable {
    public var family: Int32
    public var priority: UInt32
    public var table: UInt32
    /// Match packets with this mark (or, with `invert`, without it).
    public var fwmark: UInt32?
    public var invert: Bool
    /// Ignore routes in the table whose prefix is this long or shorter (`suppress_prefixlength`).
    public var suppressPrefixLength: UInt32?

    public init(
        family: Int32, priority: UInt32, table: UInt32, fwmark: UInt32? = nil, invert: Bool = false,
        suppressPrefixLength: UInt32? = nil
    ) {
        self.family = family
        self.priority = priority
        self.table = table
        self.fwmark = fwmark
        self.invert = invert
        self.suppressPrefixLength = suppressPrefixLength
    }
}

extension NetlinkSocket {
    /// Adds a rule; an identical rule already present is not an error.
    public func addRule(_ rule: RoutingRule) throws {
        do {
            try request(
                operation: "add rule priority \(rule.priority) table \(rule.table)",
                message: ruleMessage(type: RTM_NEWRULE, flags: NLM_F_CREATE | NLM_F_EXCL, rule: rule))
        } catch let error as NetlinkError where error.errno == EEXIST {
            return
        }
    }

    public func removeRule(_ rule: RoutingRule) throws {
        try request(
            operation: "remove rule priority \(rule.priority) table \(rule.table)",
            message: ruleMessage(type: RTM_DELRULE, flags: 0, rule: rule))
    }

    /// The rules of one family.
    public func dumpRules(family: Int32) throws -> [RoutingRule] {
        let message = NetlinkMessageBuilder(
            type: UInt16(RTM_GETRULE), flags: NLM_F_REQUEST | NLM_F_DUMP, extraHeader: MemoryLayout<fib_rule_hdr>.size)
        message.familyHeader(as: fib_rule_hdr.self).pointee.family = UInt8(family)
        var rules: [RoutingRule] = []
        try request(operation: "dump rules", message: message) { reply in
            if let rule = RoutingRule(message: reply) { rules.append(rule) }
        }
        return rules
    }

    private func ruleMessage(type: Int, flags: Int32, rule: RoutingRule) -> NetlinkMessageBuilder {
        let message = NetlinkMessageBuilder(
            type: UInt16(type), flags: NLM_F_REQUEST | NLM_F_ACK | flags,
            extraHeader: MemoryLayout<fib_rule_hdr>.size)
        let header = message.familyHeader(as: fib_rule_hdr.self)
        header.pointee.family = UInt8(rule.family)
        header.pointee.action = UInt8(FR_ACT_TO_TBL)
        header.pointee.table = rule.table < 256 ? UInt8(rule.table) : UInt8(RT_TABLE_UNSPEC.rawValue)
        if rule.invert { header.pointee.flags = UInt32(FIB_RULE_INVERT) }
        message.put(Int32(FRA_TABLE), u32: rule.table)
        message.put(Int32(FRA_PRIORITY), u32: rule.priority)
        if let mark = rule.fwmark {
            message.put(Int32(FRA_FWMARK), u32: mark)
            message.put(Int32(FRA_FWMASK), u32: UInt32.max)
        }
        if let length = rule.suppressPrefixLength {
            message.put(Int32(FRA_SUPPRESS_PREFIXLEN), u32: length)
        }
        return message
    }
}

extension RoutingRule {
    /// Parses an `RTM_NEWRULE` message of a table lookup; other actions give nil.
    init?(message: UnsafePointer<nlmsghdr>) {
        guard message.pointee.nlmsg_type == UInt16(RTM_NEWRULE) else { return nil }
        let header = mnl_nlmsg_get_payload(message)!.assumingMemoryBound(to: fib_rule_hdr.self).pointee
        guard header.action == UInt8(FR_ACT_TO_TBL) else { return nil }
        var table = UInt32(header.table)
        var priority: UInt32 = 0
        var mark: UInt32?
        var suppress: UInt32?
        NetlinkAttributes.forEach(in: message, offset: smeg_fib_rule_rta_offset()) { attribute in
            switch NetlinkAttributes.type(attribute) {
            case Int32(FRA_TABLE): table = NetlinkAttributes.integer(attribute, as: UInt32.self) ?? table
            case Int32(FRA_PRIORITY): priority = NetlinkAttributes.integer(attribute, as: UInt32.self) ?? 0
            case Int32(FRA_FWMARK): mark = NetlinkAttributes.integer(attribute, as: UInt32.self)
            case Int32(FRA_SUPPRESS_PREFIXLEN):
                // The kernel reports -1 (all ones) for rules without it.
                let value = NetlinkAttributes.integer(attribute, as: UInt32.self)
                suppress = value == UInt32.max ? nil : value
            default: break
            }
        }
        self.init(
            family: Int32(header.family), priority: priority, table: table, fwmark: mark,
            invert: header.flags & UInt32(FIB_RULE_INVERT) != 0, suppressPrefixLength: suppress)
    }
}
