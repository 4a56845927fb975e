import CMnl
import MeshCore

#if canImport(Glibc)
    import Glibc
#endif

/// Encodes `WG_CMD_SET_DEVICE` requests and decodes `WG_CMD_GET_DEVICE` replies of the kernel's
/// "wireguard" generic netlink family. No I/O, so splitting is unit-tested without a kernel.
///
/// Splitting follows the contract in `<linux/wireguard.h>`: when peers do not fit in one
/// message, the rest follow in further messages carrying only the interface name and peers;
/// device-wide fields and `WGDEVICE_F_REPLACE_PEERS` go in the first message only. A peer whose
/// AllowedIPs overflow is continued in the next message with just its public key and the
/// remaining AllowedIPs (no flags, so they add to the ones already set). The kernel applies
/// each message as it arrives, which is what makes that continuation correct.
public enum WireGuardNetlinkCodec {
    /// Builds the messages for `update` on interface `name`, each at most `capacity` bytes.
    public static func setDeviceMessages(
        _ update: WireGuardDeviceUpdate, interface name: String, family: UInt16,
        capacity: Int = NetlinkMessageBuilder.defaultCapacity
    ) throws -> [NetlinkMessageBuilder] {
        var messages: [NetlinkMessageBuilder] = []
        var cursor = Cursor()
        repeat {
            let message = NetlinkMessageBuilder.generic(
                family: family, command: UInt8(WG_CMD_SET_DEVICE.rawValue), version: UInt8(WG_GENL_VERSION),
                flags: NLM_F_ACK, capacity: capacity)
            message.put(Int32(WGDEVICE_A_IFNAME.rawValue), string: name)
            if messages.isEmpty { putDeviceFields(update, into: message) }
            if cursor.peer < update.peers.count {
                guard let nest = message.beginNest(Int32(WGDEVICE_A_PEERS.rawValue)) else { throw tooSmall(capacity) }
                let start = cursor
                putPeers(update.peers, into: message, cursor: &cursor)
                guard cursor != start else { throw tooSmall(capacity) }
                message.endNest(nest)
            }
            messages.append(message)
        } while cursor.peer < update.peers.count
        return messages
    }

    /// Where encoding resumes: a peer, and how many of its AllowedIPs are already sent.
    struct Cursor: Equatable {
        var peer = 0
        var allowedIP = 0
    }

    private static func tooSmall(_ capacity: Int) -> NetlinkError {
        NetlinkError(operation: "encode WireGuard peer into a \(capacity)-byte message", errno: EMSGSIZE)
    }

    private static func putDeviceFields(_ update: WireGuardDeviceUpdate, into message: NetlinkMessageBuilder) {
        if update.replacePeers {
            message.put(Int32(WGDEVICE_A_FLAGS.rawValue), u32: UInt32(WGDEVICE_F_REPLACE_PEERS.rawValue))
        }
        if let key = update.privateKey { message.put(Int32(WGDEVICE_A_PRIVATE_KEY.rawValue), bytes: key.bytes) }
        if let port = update.listenPort { message.put(Int32(WGDEVICE_A_LISTEN_PORT.rawValue), u16: port) }
        if let mark = update.fwmark { message.put(Int32(WGDEVICE_A_FWMARK.rawValue), u32: mark) }
    }

    /// Writes as many peers (and AllowedIPs) as fit, advancing `cursor` past what was written.
    private static func putPeers(
        _ peers: [WireGuardPeerUpdate], into message: NetlinkMessageBuilder, cursor: inout Cursor
    ) {
        while cursor.peer < peers.count {
            let peer = peers[cursor.peer]
            let continuing = cursor.allowedIP > 0
            guard let nest = message.beginNest(0) else { return }
            guard putPeerHeader(peer, continuing: continuing, into: message) else {
                message.cancelNest(nest)
                return
            }
            let ips = peer.remove ? [] : peer.allowedIPs
            if cursor.allowedIP < ips.count {
                let written = putAllowedIPs(ips[cursor.allowedIP...], into: message)
                if written == 0 {
                    // Not even one fits after the header: start this peer afresh next time.
                    message.cancelNest(nest)
                    return
                }
                cursor.allowedIP += written
                if cursor.allowedIP < ips.count {
                    message.endNest(nest)
                    return
                }
            }
            message.endNest(nest)
            cursor = Cursor(peer: cursor.peer + 1, allowedIP: 0)
        }
    }

    private static func putPeerHeader(
        _ peer: WireGuardPeerUpdate, continuing: Bool, into message: NetlinkMessageBuilder
    ) -> Bool {
        guard message.put(Int32(WGPEER_A_PUBLIC_KEY.rawValue), bytes: peer.publicKey.bytes) else { return false }
        if continuing { return true }
        var flags: UInt32 = 0
        if peer.remove { flags |= UInt32(WGPEER_F_REMOVE_ME.rawValue) }
        if peer.updateOnly { flags |= UInt32(WGPEER_F_UPDATE_ONLY.rawValue) }
        if peer.replaceAllowedIPs && !peer.remove { flags |= UInt32(WGPEER_F_REPLACE_ALLOWEDIPS.rawValue) }
        var ok = flags == 0 || message.put(Int32(WGPEER_A_FLAGS.rawValue), u32: flags)
        if peer.remove { return ok }
        if let key = peer.presharedKey {
            ok = ok && message.put(Int32(WGPEER_A_PRESHARED_KEY.rawValue), bytes: key.bytes)
        }
        if let endpoint = peer.endpoint {
            ok = ok && message.put(Int32(WGPEER_A_ENDPOINT.rawValue), bytes: sockaddrBytes(endpoint))
        }
        if let interval = peer.persistentKeepalive {
            ok = ok && message.put(Int32(WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL.rawValue), u16: interval)
        }
        return ok
    }

    /// Writes the `WGPEER_A_ALLOWEDIPS` nest; returns how many entries fit (0 leaves nothing).
    private static func putAllowedIPs(_ ips: ArraySlice<IPNet>, into message: NetlinkMessageBuilder) -> Int {
        guard let list = message.beginNest(Int32(WGPEER_A_ALLOWEDIPS.rawValue)) else { return 0 }
        var written = 0
        for prefix in ips {
            guard let entry = message.beginNest(0) else { break }
            let ok =
                message.put(Int32(WGALLOWEDIP_A_FAMILY.rawValue), u16: UInt16(prefix.family))
                && message.put(Int32(WGALLOWEDIP_A_IPADDR.rawValue), bytes: prefix.address)
                && message.put(Int32(WGALLOWEDIP_A_CIDR_MASK.rawValue), u8: prefix.prefixLength)
            guard ok else {
                message.cancelNest(entry)
                break
            }
            message.endNest(entry)
            written += 1
        }
        if written == 0 { message.cancelNest(list) } else { message.endNest(list) }
        return written
    }

    /// A `sockaddr_in` or `sockaddr_in6` as the kernel expects in `WGPEER_A_ENDPOINT`.
    static func sockaddrBytes(_ endpoint: WireGuardEndpoint) -> [UInt8] {
        if endpoint.address.count == 16 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = endpoint.port.bigEndian
            withUnsafeMutableBytes(of: &address.sin6_addr) { $0.copyBytes(from: endpoint.address) }
            return withUnsafeBytes(of: &address) { [UInt8]($0) }
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = endpoint.port.bigEndian
        withUnsafeMutableBytes(of: &address.sin_addr) { $0.copyBytes(from: endpoint.address) }
        return withUnsafeBytes(of: &address) { [UInt8]($0) }
    }

    static func endpoint(sockaddr bytes: [UInt8]) -> WireGuardEndpoint? {
        guard bytes.count >= 2 else { return nil }
        let family = bytes.withUnsafeBytes { $0.loadUnaligned(as: sa_family_t.self) }
        if family == sa_family_t(AF_INET6), bytes.count >= MemoryLayout<sockaddr_in6>.size {
            let address = bytes.withUnsafeBytes { $0.loadUnaligned(as: sockaddr_in6.self) }
            let raw = withUnsafeBytes(of: address.sin6_addr) { [UInt8]($0) }
            return WireGuardEndpoint(address: raw, port: UInt16(bigEndian: address.sin6_port))
        }
        if family == sa_family_t(AF_INET), bytes.count >= MemoryLayout<sockaddr_in>.size {
            let address = bytes.withUnsafeBytes { $0.loadUnaligned(as: sockaddr_in.self) }
            let raw = withUnsafeBytes(of: address.sin_addr) { [UInt8]($0) }
            return WireGuardEndpoint(address: raw, port: UInt16(bigEndian: address.sin_port))
        }
        return nil
    }

    /// Folds one message of a `WG_CMD_GET_DEVICE` dump into `device`. A peer whose public key
    /// equals the last one seen is the continuation of that peer's AllowedIPs.
    public static func mergeDeviceMessage(_ message: UnsafePointer<nlmsghdr>, into device: inout WireGuardDevice) {
        NetlinkAttributes.forEach(in: message, offset: smeg_genl_hdrlen()) { attribute in
            switch UInt32(NetlinkAttributes.type(attribute)) {
            case WGDEVICE_A_IFNAME.rawValue: device.name = NetlinkAttributes.string(attribute)
            case WGDEVICE_A_PRIVATE_KEY.rawValue:
                let key = WireGuardKey(bytes: NetlinkAttributes.bytes(attribute))
                device.privateKey = key?.isZero == true ? nil : key
            case WGDEVICE_A_PUBLIC_KEY.rawValue:
                let key = WireGuardKey(bytes: NetlinkAttributes.bytes(attribute))
                device.publicKey = key?.isZero == true ? nil : key
            case WGDEVICE_A_LISTEN_PORT.rawValue:
                device.listenPort = NetlinkAttributes.integer(attribute, as: UInt16.self)
            case WGDEVICE_A_FWMARK.rawValue: device.fwmark = NetlinkAttributes.integer(attribute, as: UInt32.self)
            case WGDEVICE_A_PEERS.rawValue:
                NetlinkAttributes.forEachNested(in: attribute) { mergePeer($0, into: &device) }
            default: break
            }
        }
    }

    /// Decodes an encoded message (as `setDeviceMessages` produces or the kernel sends).
    public static func mergeDeviceMessage(bytes: [UInt8], into device: inout WireGuardDevice) {
        bytes.withUnsafeBytes { raw in
            mergeDeviceMessage(raw.baseAddress!.assumingMemoryBound(to: nlmsghdr.self), into: &device)
        }
    }

    private static func mergePeer(_ nest: UnsafePointer<nlattr>, into device: inout WireGuardDevice) {
        var peer: WireGuardPeer?
        var allowed: [IPNet] = []
        var handshake: Double?
        NetlinkAttributes.forEachNested(in: nest) { attribute in
            switch UInt32(NetlinkAttributes.type(attribute)) {
            case WGPEER_A_PUBLIC_KEY.rawValue:
                if let key = WireGuardKey(bytes: NetlinkAttributes.bytes(attribute)) {
                    peer = WireGuardPeer(publicKey: key)
                }
            case WGPEER_A_PRESHARED_KEY.rawValue:
                let key = WireGuardKey(bytes: NetlinkAttributes.bytes(attribute))
                peer?.presharedKey = key?.isZero == true ? nil : key
            case WGPEER_A_ENDPOINT.rawValue: peer?.endpoint = endpoint(sockaddr: NetlinkAttributes.bytes(attribute))
            case WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL.rawValue:
                peer?.persistentKeepalive = NetlinkAttributes.integer(attribute, as: UInt16.self) ?? 0
            case WGPEER_A_LAST_HANDSHAKE_TIME.rawValue:
                let raw = NetlinkAttributes.bytes(attribute)
                if raw.count >= 16 {
                    let seconds = raw.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 0, as: Int64.self) }
                    let nanoseconds = raw.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8, as: Int64.self) }
                    if seconds != 0 || nanoseconds != 0 { handshake = Double(seconds) + Double(nanoseconds) / 1e9 }
                }
            case WGPEER_A_RX_BYTES.rawValue: peer?.rxBytes = NetlinkAttributes.integer(attribute, as: UInt64.self) ?? 0
            case WGPEER_A_TX_BYTES.rawValue: peer?.txBytes = NetlinkAttributes.integer(attribute, as: UInt64.self) ?? 0
            case WGPEER_A_ALLOWEDIPS.rawValue:
                NetlinkAttributes.forEachNested(in: attribute) { entry in
                    if let prefix = allowedIP(entry) { allowed.append(prefix) }
                }
            default: break
            }
        }
        guard var peer else { return }
        if let last = device.peers.last, last.publicKey == peer.publicKey {
            device.peers[device.peers.count - 1].allowedIPs += allowed
            return
        }
        peer.allowedIPs = allowed
        peer.lastHandshake = handshake
        device.peers.append(peer)
    }

    private static func allowedIP(_ entry: UnsafePointer<nlattr>) -> IPNet? {
        var address: [UInt8]?
        var mask: UInt8?
        NetlinkAttributes.forEachNested(in: entry) { attribute in
            switch UInt32(NetlinkAttributes.type(attribute)) {
            case WGALLOWEDIP_A_IPADDR.rawValue: address = NetlinkAttributes.bytes(attribute)
            case WGALLOWEDIP_A_CIDR_MASK.rawValue: mask = NetlinkAttributes.integer(attribute, as: UInt8.self)
            default: break
            }
        }
        guard let address, let mask else { return nil }
        return IPNet(address: address, prefixLength: mask)
    }
}
