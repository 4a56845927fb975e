import CMnl
import MeshCore

#if canImport(Glibc)
    import Glibc
#endif

extension NetlinkSocket {
    /// Looks up a generic netlink family id by name (`CTRL_CMD_GETFAMILY`).
    ///
    /// Returns nil when the kernel does not know the family (ENOENT): for "wireguard" that means
    /// the module is neither built in nor loaded.
    public func genericFamilyID(named name: String) throws -> UInt16? {
        let message = NetlinkMessageBuilder.generic(
            family: smeg_genl_id_ctrl(), command: UInt8(CTRL_CMD_GETFAMILY), version: 1, flags: NLM_F_ACK)
        message.put(Int32(CTRL_ATTR_FAMILY_NAME), string: name)
        var id: UInt16?
        do {
            try request(operation: "resolve generic netlink family \(name)", message: message) { reply in
                NetlinkAttributes.forEach(in: reply, offset: smeg_genl_hdrlen()) { attribute in
                    if NetlinkAttributes.type(attribute) == Int32(CTRL_ATTR_FAMILY_ID) {
                        id = NetlinkAttributes.integer(attribute, as: UInt16.self)
                    }
                }
            }
        } catch let error as NetlinkError where error.errno == ENOENT {
            return nil
        }
        return id
    }
}

extension NetlinkMessageBuilder {
    /// A generic netlink request: `nlmsghdr` with the family id as type, then `genlmsghdr`.
    public static func generic(
        family: UInt16, command: UInt8, version: UInt8, flags: Int32, capacity: Int = defaultCapacity
    ) -> NetlinkMessageBuilder {
        let message = NetlinkMessageBuilder(
            capacity: capacity, type: family, flags: NLM_F_REQUEST | flags, extraHeader: MemoryLayout<genlmsghdr>.size)
        let header = message.familyHeader(as: genlmsghdr.self)
        header.pointee.cmd = command
        header.pointee.version = version
        return message
    }
}
