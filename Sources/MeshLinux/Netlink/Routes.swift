import CMnl
import MeshCore

#if canImport(Glibc)
    import Glibc
#endif

extension NetlinkSocket {
    /// Adds a route, or replaces the one with the same destination, table and metric.
    public func replaceRoute(_ route: RouteEntry) throws {
        let message = routeMessage(type: RTM_NEWROUTE, flags: NLM_F_CREATE | NLM_F_REPLACE, route: route)
        try request(operation: "replace route \(route.destination)", message: message)
    }

    /// Removes a route.
    public func removeRoute(_ route: RouteEntry) throws {
        try request(
            operation: "remove route \(route.destination)",
            message: routeMessage(type: RTM_DELROUTE, flags: 0, route: route))
    }

    /// The unicast routes of one family (AF_INET6 or AF_INET), optionally only those via `link`.
    public func dumpRoutes(family: Int32, link: String? = nil) throws -> [RouteEntry] {
        let wanted = try link.map { try requireLinkIndex($0, operation: "dump routes of \($0)") }
        let message = NetlinkMessageBuilder(
            type: UInt16(RTM_GETROUTE), flags: NLM_F_REQUEST | NLM_F_DUMP, extraHeader: MemoryLayout<rtmsg>.size)
        message.familyHeader(as: rtmsg.self).pointee.rtm_family = UInt8(family)
        var result: [RouteEntry] = []
        try request(operation: "dump routes", message: message) { reply in
            guard let route = RouteEntry(message: reply) else { return }
            if wanted == nil || wanted == route.linkIndex { result.append(route) }
        }
        return result
    }

    private func routeMessage(type: Int, flags: Int32, route: RouteEntry) -> NetlinkMessageBuilder {
        let message = NetlinkMessageBuilder(
            type: UInt16(type), flags: NLM_F_REQUEST | NLM_F_ACK | flags, extraHeader: MemoryLayout<rtmsg>.size)
        let header = message.familyHeader(as: rtmsg.self)
        header.pointee.rtm_family = UInt8(route.destination.family)
        header.pointee.rtm_dst_len = route.destination.prefixLength
        header.pointee.rtm_table = route.table < 256 ? UInt8(route.table) : UInt8(RT_TABLE_UNSPEC.rawValue)
        header.pointee.rtm_protocol = route.proto
        header.pointee.rtm_type = UInt8(RTN_UNICAST)
        header.pointee.rtm_scope =
            route.gateway == nil ? UInt8(RT_SCOPE_LINK.rawValue) : UInt8(RT_SCOPE_UNIVERSE.rawValue)
        message.put(Int32(RTA_TABLE.rawValue), u32: route.table)
        message.put(Int32(RTA_DST.rawValue), bytes: route.destination.address)
        if let index = route.linkIndex { message.put(Int32(RTA_OIF.rawValue), u32: UInt32(index)) }
        if let gateway = route.gateway { message.put(Int32(RTA_GATEWAY.rawValue), bytes: gateway) }
        if let metric = route.metric { message.put(Int32(RTA_PRIORITY.rawValue), u32: metric) }
        return message
    }
}

extension RouteEntry {
    /// Parses an `RTM_NEWROUTE` message; other route types (local, broadcast...) give nil.
    init?(message: UnsafePointer<nlmsghdr>) {
        guard message.pointee.nlmsg_type == UInt16(RTM_NEWROUTE) else { return nil }
        let header = mnl_nlmsg_get_payload(message)!.assumingMemoryBound(to: rtmsg.self).pointee
        guard header.rtm_type == UInt8(RTN_UNICAST) else { return nil }
        let width = header.rtm_family == UInt8(AF_INET6) ? 16 : 4
        var destination = [UInt8](repeating: 0, count: width)
        var gateway: [UInt8]?
        var index: Int32?
        var table = UInt32(header.rtm_table)
        var metric: UInt32?
        NetlinkAttributes.forEach(in: message, offset: smeg_rtm_rta_offset()) { attribute in
            switch NetlinkAttributes.type(attribute) {
            case Int32(RTA_DST.rawValue): destination = NetlinkAttributes.bytes(attribute)
            case Int32(RTA_GATEWAY.rawValue): gateway = NetlinkAttributes.bytes(attribute)
            case Int32(RTA_OIF.rawValue): index = NetlinkAttributes.integer(attribute, as: Int32.self)
            case Int32(RTA_TABLE.rawValue): table = NetlinkAttributes.integer(attribute, as: UInt32.self) ?? table
            case Int32(RTA_PRIORITY.rawValue): metric = NetlinkAttributes.integer(attribute, as: UInt32.self)
            default: break
            }
        }
        guard let prefix = IPNet(address: destination, prefixLength: header.rtm_dst_len) else { return nil }
        self.init(
            destination: prefix, gateway: gateway, linkIndex: index, table: table, proto: header.rtm_protocol,
            metric: metric)
    }
}
