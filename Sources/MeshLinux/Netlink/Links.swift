import CMnl
import MeshCore

#if canImport(Glibc)
    import Glibc
#endif

extension NetlinkSocket {
    /// The index of `name` in this network namespace, or nil when there is no such link.
    public static func linkIndex(_ name: String) -> Int32? {
        let index = if_nametoindex(name)
        return index == 0 ? nil : Int32(index)
    }

    func requireLinkIndex(_ name: String, operation: String) throws -> Int32 {
        guard let index = NetlinkSocket.linkIndex(name) else { throw NetlinkError(operation: operation, errno: ENODEV) }
        return index
    }

    /// Creates a virtual link (`ip link add NAME type KIND`); fails with EEXIST if it exists.
    ///
    /// Kernels without the driver answer EOPNOTSUPP ("Unknown device type"), which is how the
    /// WireGuard backend selection detects a missing module.
    public func createLink(name: String, kind: String) throws {
        let message = linkMessage(type: RTM_NEWLINK, flags: NLM_F_CREATE | NLM_F_EXCL, index: 0)
        message.put(Int32(IFLA_IFNAME), string: name)
        let info = message.beginNest(Int32(IFLA_LINKINFO))!
        message.put(Int32(IFLA_INFO_KIND), string: kind)
        message.endNest(info)
        try request(operation: "create \(kind) link \(name)", message: message)
    }

    /// Deletes a link (`ip link del NAME`).
    public func deleteLink(name: String) throws {
        let operation = "delete link \(name)"
        let message = linkMessage(type: RTM_DELLINK, flags: 0, index: try requireLinkIndex(name, operation: operation))
        try request(operation: operation, message: message)
    }

    /// Sets a link up or down and/or its MTU; nil leaves that setting alone.
    public func setLink(name: String, up: Bool? = nil, mtu: UInt32? = nil) throws {
        let operation = "set link \(name)" + (up.map { $0 ? " up" : " down" } ?? "") + (mtu.map { " mtu \($0)" } ?? "")
        let message = linkMessage(type: RTM_NEWLINK, flags: 0, index: try requireLinkIndex(name, operation: operation))
        if let up {
            let info = message.familyHeader(as: ifinfomsg.self)
            info.pointee.ifi_change = UInt32(IFF_UP)
            info.pointee.ifi_flags = up ? UInt32(IFF_UP) : 0
        }
        if let mtu { message.put(Int32(IFLA_MTU), u32: mtu) }
        try request(operation: operation, message: message)
    }

    private func linkMessage(type: Int, flags: Int32, index: Int32) -> NetlinkMessageBuilder {
        let message = NetlinkMessageBuilder(
            type: UInt16(type), flags: NLM_F_REQUEST | NLM_F_ACK | flags, extraHeader: MemoryLayout<ifinfomsg>.size)
        let info = message.familyHeader(as: ifinfomsg.self)
        info.pointee.ifi_family = UInt8(AF_UNSPEC)
        info.pointee.ifi_index = index
        return message
    }
}
