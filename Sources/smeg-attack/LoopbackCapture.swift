import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Reads UDP datagrams off the loopback interface with a packet socket, the way an attacker on
/// the path would: no cooperation from either daemon, and the exact bytes they exchanged.
enum LoopbackCapture {
    struct Frame {
        var sourcePort: UInt16
        var destinationPort: UInt16
        var payload: [UInt8]
    }

    /// Datagrams between two of `ports` (both ends honest daemons) seen within `seconds`.
    static func frames(ports: Set<UInt16>, seconds: Double) throws -> [Frame] {
        let ipProtocol = UInt16(0x0800).bigEndian
        let fd = socket(AF_PACKET, Int32(SOCK_DGRAM.rawValue), Int32(ipProtocol))
        guard fd >= 0 else { throw AttackFailure("packet socket: errno \(errno) (needs root)") }
        defer { close(fd) }
        let loopback = Int32(if_nametoindex("lo"))
        var out: [Frame] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        // sockaddr_ll: family (2), protocol (2), ifindex (4), hatype (2), pkttype (1), ...
        var link = [UInt8](repeating: 0, count: 32)
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) > 0 else { continue }
            var linkLength = socklen_t(link.count)
            let count = buffer.withUnsafeMutableBytes { data in
                link.withUnsafeMutableBytes { address in
                    recvfrom(
                        fd, data.baseAddress, data.count, 0,
                        address.baseAddress!.assumingMemoryBound(to: sockaddr.self),
                        &linkLength)
                }
            }
            guard count > 28 else { continue }
            let index = link.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 4, as: Int32.self) }
            // Each loopback datagram shows up once outgoing (type 4) and once incoming: keep one.
            guard index == loopback, link[10] != 4 else { continue }
            let packet = buffer[..<count]
            guard packet[0] >> 4 == 4, packet[9] == 17 else { continue }
            let header = Int(packet[0] & 0x0f) * 4
            guard count >= header + 8 else { continue }
            let source = UInt16(packet[header]) << 8 | UInt16(packet[header + 1])
            let destination = UInt16(packet[header + 2]) << 8 | UInt16(packet[header + 3])
            guard ports.contains(source), ports.contains(destination) else { continue }
            out.append(Frame(sourcePort: source, destinationPort: destination, payload: Array(packet[(header + 8)...])))
        }
        return out
    }
}
