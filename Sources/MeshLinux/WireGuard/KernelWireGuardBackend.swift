import CMnl
import MeshCore

#if canImport(Glibc)
    import Glibc
#endif

/// The kernel module, driven through the "wireguard" generic netlink family.
public final class KernelWireGuardBackend: WireGuardBackend {
    public let kind = WireGuardBackendKind.kernel
    private let generic: NetlinkSocket
    private let route: NetlinkSocket
    private let family: UInt16
    /// Bytes per set-device message; smaller values force more splitting (tests use this).
    public var messageCapacity = NetlinkMessageBuilder.defaultCapacity

    /// Fails with `.kernelModuleMissing` when the family is unknown to the kernel.
    public init() throws {
        generic = try NetlinkSocket(bus: NETLINK_GENERIC)
        route = try NetlinkSocket(bus: NETLINK_ROUTE)
        guard let family = try generic.genericFamilyID(named: WG_GENL_NAME) else {
            throw WireGuardError.kernelModuleMissing
        }
        self.family = family
    }

    public func createInterface(_ name: String) throws {
        if NetlinkSocket.linkIndex(name) != nil { return }
        try route.createLink(name: name, kind: "wireguard")
    }

    public func deleteInterface(_ name: String) throws {
        try route.deleteLink(name: name)
    }

    public func device(named name: String) throws -> WireGuardDevice {
        let message = NetlinkMessageBuilder.generic(
            family: family, command: UInt8(WG_CMD_GET_DEVICE.rawValue), version: UInt8(WG_GENL_VERSION),
            flags: NLM_F_ACK | NLM_F_DUMP)
        message.put(Int32(WGDEVICE_A_IFNAME.rawValue), string: name)
        var device = WireGuardDevice(name: name)
        try generic.request(operation: "get WireGuard device \(name)", message: message) { reply in
            WireGuardNetlinkCodec.mergeDeviceMessage(reply, into: &device)
        }
        return device
    }

    public func apply(_ update: WireGuardDeviceUpdate, to name: String) throws {
        let messages = try WireGuardNetlinkCodec.setDeviceMessages(
            update, interface: name, family: family, capacity: messageCapacity)
        for (index, message) in messages.enumerated() {
            let part = messages.count > 1 ? " (message \(index + 1) of \(messages.count))" : ""
            try generic.request(operation: "set WireGuard device \(name)\(part)", message: message)
        }
    }
}
