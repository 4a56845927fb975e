/// The cross-platform userspace configuration protocol (wireguard.com/xplatform): `key=value`
/// lines over a Unix socket, ended by an empty line. Pure text in, text out, so both directions
/// are unit-tested without a running daemon.
///
/// Keys are lowercase hex rather than base64; AllowedIPs are cumulative per peer unless
/// `replace_allowed_ips=true` comes first, mirroring the kernel's flags.
public enum WireGuardUAPI {
    /// The request that reads the whole device.
    public static let getRequest = "get=1\n\n"

    /// The `set=1` request for `update`. Userspace reads the socket as a stream, so unlike
    /// netlink there is no size limit and no splitting.
    public static func setRequest(_ update: WireGuardDeviceUpdate) -> String {
        var lines = ["set=1"]
        if let key = update.privateKey { lines.append("private_key=\(key.hex)") }
        if let port = update.listenPort { lines.append("listen_port=\(port)") }
        if let mark = update.fwmark { lines.append("fwmark=\(mark)") }
        if update.replacePeers { lines.append("replace_peers=true") }
        for peer in update.peers {
            lines.append("public_key=\(peer.publicKey.hex)")
            if peer.remove {
                lines.append("remove=true")
                continue
            }
            if peer.updateOnly { lines.append("update_only=true") }
            if let key = peer.presharedKey { lines.append("preshared_key=\(key.hex)") }
            if let endpoint = peer.endpoint { lines.append("endpoint=\(endpoint)") }
            if let interval = peer.persistentKeepalive { lines.append("persistent_keepalive_interval=\(interval)") }
            if peer.replaceAllowedIPs { lines.append("replace_allowed_ips=true") }
            for prefix in peer.allowedIPs { lines.append("allowed_ip=\(prefix)") }
        }
        return lines.joined(separator: "\n") + "\n\n"
    }

    /// The `errno=N` value ending a response; nil until the response is complete.
    public static func responseErrno(_ response: String) -> Int32? {
        guard response.hasSuffix("\n\n") else { return nil }
        for line in response.split(separator: "\n").reversed() where line.hasPrefix("errno=") {
            return Int32(line.dropFirst("errno=".count))
        }
        return nil
    }

    /// Parses a complete `get=1` response into a device named `name`.
    public static func parseDevice(_ response: String, name: String) throws -> WireGuardDevice {
        var device = WireGuardDevice(name: name, listenPort: 0, fwmark: 0)
        var peer: WireGuardPeer?
        var handshakeSeconds: Int64 = 0
        var handshakeNanoseconds: Int64 = 0
        func finishPeer() {
            guard var finished = peer else { return }
            if handshakeSeconds != 0 || handshakeNanoseconds != 0 {
                finished.lastHandshake = Double(handshakeSeconds) + Double(handshakeNanoseconds) / 1e9
            }
            device.peers.append(finished)
            peer = nil
            handshakeSeconds = 0
            handshakeNanoseconds = 0
        }
        for line in response.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { throw WireGuardError.malformedUAPI(String(line)) }
            let key = line[..<equals]
            let value = String(line[line.index(after: equals)...])
            func bad() -> WireGuardError { .malformedUAPI(String(line)) }
            switch key {
            case "errno":
                guard let code = Int32(value) else { throw bad() }
                if code != 0 { throw WireGuardError.uapi(operation: "get device \(name)", errno: code) }
            case "private_key":
                guard let parsed = WireGuardKey(hex: value) else { throw bad() }
                device.privateKey = parsed.isZero ? nil : parsed
            case "listen_port":
                guard let port = UInt16(value) else { throw bad() }
                device.listenPort = port
            case "fwmark":
                guard let mark = UInt32(value) else { throw bad() }
                device.fwmark = mark
            case "public_key":
                finishPeer()
                guard let parsed = WireGuardKey(hex: value) else { throw bad() }
                peer = WireGuardPeer(publicKey: parsed)
            case "preshared_key":
                guard let parsed = WireGuardKey(hex: value), peer != nil else { throw bad() }
                peer?.presharedKey = parsed.isZero ? nil : parsed
            case "endpoint":
                guard let endpoint = WireGuardEndpoint(value), peer != nil else { throw bad() }
                peer?.endpoint = endpoint
            case "allowed_ip":
                guard let prefix = IPNet(value), peer != nil else { throw bad() }
                peer?.allowedIPs.append(prefix)
            case "persistent_keepalive_interval":
                guard let interval = UInt16(value), peer != nil else { throw bad() }
                peer?.persistentKeepalive = interval
            case "last_handshake_time_sec":
                guard let seconds = Int64(value) else { throw bad() }
                handshakeSeconds = seconds
            case "last_handshake_time_nsec":
                guard let nanoseconds = Int64(value) else { throw bad() }
                handshakeNanoseconds = nanoseconds
            case "rx_bytes":
                guard let count = UInt64(value), peer != nil else { throw bad() }
                peer?.rxBytes = count
            case "tx_bytes":
                guard let count = UInt64(value), peer != nil else { throw bad() }
                peer?.txBytes = count
            default:
                // protocol_version and keys added by newer implementations are not ours to judge.
                continue
            }
        }
        finishPeer()
        if let key = device.privateKey { device.publicKey = try key.publicKey() }
        return device
    }
}
