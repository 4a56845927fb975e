import CMnl
import MeshCore

#if canImport(Glibc)
    import Glibc
#endif

/// One address on a link, as rtnetlink reports it.
public struct InterfaceAddress: Hashable, Sendable, Codable {
    public var linkIndex: Int32
    public var prefix: IPNet
    /// `IFA_F_*` flags (the 32-bit `IFA_FLAGS` value when present).
    public var flags: UInt32

    public init(linkIndex: Int32, prefix: IPNet, flags: UInt32) {
        self.linkIndex = linkIndex
        self.prefix = prefix
        self.flags = flags
    }

    public var hasNoPrefixRoute: Bool { flags & UInt32(IFA_F_NOPREFIXROUTE) != 0 }
}

/// How an address is added.
public struct AddressOptions: Hashable, Sendable {
    /// Do not install the connected route for the prefix: the mesh installs its own routes
    /// (and a /64 on a point-to-point WireGuard link would otherwise claim the whole mesh prefix
    /// for this one interface even when some members are reached another way).
    public var noPrefixRoute: Bool
    /// Skip duplicate address detection, so the address is usable at once.
    public var noDAD: Bool

    public init(noPrefixRoute: Bool = false, noDAD: Bool = false) {
        self.noPrefixRoute = noPrefixRoute
        self.noDAD = noDAD
    }

    var flags: UInt32 {
        (noPrefixRoute ? UInt32(IFA_F_NOPREFIXROUTE) : 0) | (noDAD ? UInt32(IFA_F_NODAD) : 0)
    }
}

extension NetlinkSocket {
    /// Adds (or updates the flags of) an address on a link (`ip addr replace`).
    public func addAddress(_ prefix: IPNet, link: String, options: AddressOptions = AddressOptions()) throws {
        let operation = "add address \(prefix) on \(link)"
        let index = try requireLinkIndex(link, operation: operation)
        let message = addressMessage(
            type: RTM_NEWADDR, flags: NLM_F_CREATE | NLM_F_REPLACE, prefix: prefix, index: index)
        message.put(Int32(IFA_FLAGS), u32: options.flags)
        try request(operation: operation, message: message)
    }

    /// Removes an address from a link.
    public func removeAddress(_ prefix: IPNet, link: String) throws {
        let operation = "remove address \(prefix) from \(link)"
        let index = try requireLinkIndex(link, operation: operation)
        try request(
            operation: operation, message: addressMessage(type: RTM_DELADDR, flags: 0, prefix: prefix, index: index))
    }

    /// Every address in this namespace, or only those on `link`.
    public func dumpAddresses(link: String? = nil) throws -> [InterfaceAddress] {
        let wanted = try link.map { try requireLinkIndex($0, operation: "dump addresses of \($0)") }
        let message = NetlinkMessageBuilder(
            type: UInt16(RTM_GETADDR), flags: NLM_F_REQUEST | NLM_F_DUMP, extraHeader: MemoryLayout<ifaddrmsg>.size)
        var result: [InterfaceAddress] = []
        try request(operation: "dump addresses", message: message) { reply in
            guard let address = InterfaceAddress(message: reply) else { return }
            if wanted == nil || wanted == address.linkIndex { result.append(address) }
        }
        return result
    }

    private func addressMessage(type: Int, flags: Int32, prefix: IPNet, index: Int32) -> NetlinkMessageBuilder {
        let message = NetlinkMessageBuilder(
            type: UInt16(type), flags: NLM_F_REQUEST | NLM_F_ACK | flags, extraHeader: MemoryLayout<ifaddrmsg>.size)
        let header = message.familyHeader(as: ifaddrmsg.self)
        header.pointee.ifa_family = UInt8(prefix.family)
        header.pointee.ifa_prefixlen = prefix.prefixLength
        header.pointee.ifa_scope = UInt8(RT_SCOPE_UNIVERSE.rawValue)
        header.pointee.ifa_index = UInt32(index)
        message.put(Int32(IFA_LOCAL), bytes: prefix.address)
        message.put(Int32(IFA_ADDRESS), bytes: prefix.address)
        return message
    }
}

extension InterfaceAddress {
    /// Parses an `RTM_NEWADDR` message.
    init?(message: UnsafePointer<nlmsghdr>) {
        guard message.pointee.nlmsg_type == UInt16(RTM_NEWADDR) else { return nil }
        let header = mnl_nlmsg_get_payload(message)!.assumingMemoryBound(to: ifaddrmsg.self).pointee
        var local: [UInt8]?
        var address: [UInt8]?
        var flags = UInt32(header.ifa_flags)
        NetlinkAttributes.forEach(in: message, offset: smeg_ifa_rta_offset()) { attribute in
            switch NetlinkAttributes.type(attribute) {
            case Int32(IFA_LOCAL): local = NetlinkAttributes.bytes(attribute)
            case Int32(IFA_ADDRESS): address = NetlinkAttributes.bytes(attribute)
            case Int32(IFA_FLAGS): flags = NetlinkAttributes.integer(attribute, as: UInt32.self) ?? flags
            default: break
            }
        }
        // On point-to-point IPv4 links IFA_ADDRESS is the peer; IFA_LOCAL is ours when present.
        guard let bytes = local ?? address, let prefix = IPNet(address: bytes, prefixLength: header.ifa_prefixlen)
        else { return nil }
        self.init(linkIndex: Int32(header.ifa_index), prefix: prefix, flags: flags)
    }
}
