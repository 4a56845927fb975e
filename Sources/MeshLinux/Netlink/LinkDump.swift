import CMnl
import MeshCore

#if canImport(Glibc)
    import Glibc
#endif

/// One network interface as rtnetlink reports it.
public struct LinkInfo: Equatable, Sendable {
    public var index: Int32
    public var name: String
    public var mtu: UInt32
    public var isUp: Bool
    /// The `IFLA_INFO_KIND` of virtual links ("wireguard", "veth"); nil for physical ones.
    public var kind: String?
    /// `IFF_RUNNING`: the link is operationally up (it has carrier), not just set up.
    public var isRunning = false
}

extension NetlinkSocket {
    /// Lists every link in the caller's network namespace (`RTM_GETLINK` dump).
    public func dumpLinks() throws -> [LinkInfo] {
        var links: [LinkInfo] = []
        try request(operation: "dump links") { header in
            header.pointee.nlmsg_type = UInt16(RTM_GETLINK)
            header.pointee.nlmsg_flags = UInt16(NLM_F_REQUEST | NLM_F_DUMP)
            let info = mnl_nlmsg_put_extra_header(header, MemoryLayout<ifinfomsg>.size)!
            info.initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<ifinfomsg>.size)
            info.assumingMemoryBound(to: ifinfomsg.self).pointee.ifi_family = UInt8(AF_UNSPEC)
        } handle: { message in
            if let link = LinkInfo(message: message) { links.append(link) }
        }
        return links
    }
}

extension LinkInfo {
    /// Parses an `RTM_NEWLINK` message; returns nil if it carries no name.
    init?(message: UnsafePointer<nlmsghdr>) {
        guard message.pointee.nlmsg_type == UInt16(RTM_NEWLINK) else { return nil }
        let info = mnl_nlmsg_get_payload(message)!.assumingMemoryBound(to: ifinfomsg.self).pointee
        var name: String?
        var mtu: UInt32 = 0
        var kind: String?
        NetlinkAttributes.forEach(in: message, offset: smeg_ifi_rta_offset()) { attribute in
            switch Int32(mnl_attr_get_type(attribute)) {
            case Int32(IFLA_IFNAME):
                if mnl_attr_validate(attribute, MNL_TYPE_NUL_STRING) >= 0 {
                    name = String(cString: mnl_attr_get_str(attribute))
                }
            case Int32(IFLA_MTU):
                if mnl_attr_validate(attribute, MNL_TYPE_U32) >= 0 { mtu = mnl_attr_get_u32(attribute) }
            case Int32(IFLA_LINKINFO):
                NetlinkAttributes.forEachNested(in: attribute) { nested in
                    if Int32(mnl_attr_get_type(nested)) == Int32(IFLA_INFO_KIND),
                        mnl_attr_validate(nested, MNL_TYPE_STRING) >= 0
                    {
                        kind = NetlinkAttributes.string(nested)
                    }
                }
            default:
                break
            }
        }
        guard let name else { return nil }
        self.init(
            index: info.ifi_index, name: name, mtu: mtu, isUp: info.ifi_flags & UInt32(IFF_UP) != 0,
            kind: kind, isRunning: info.ifi_flags & UInt32(IFF_RUNNING) != 0)
    }
}
