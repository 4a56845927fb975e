import NIOCore
import Testing

@testable import smegd

/// The gossip socket is either IPv4 or dual-stack IPv6, and the kernel refuses a destination
/// of the other family without a word on the wire.
@Suite struct GossipAddressingTests {
    func address(_ ip: String, _ port: Int = 7946) -> SocketAddress { try! SocketAddress(ipAddress: ip, port: port) }

    @Test func mappedAddressesBecomeIPv4ForAnIPv4Socket() {
        let matched = GossipAddressing.matching(address("::ffff:127.0.0.1"), ipv6Socket: false)
        #expect(matched == address("127.0.0.1"))
        #expect(GossipAddressing.matching(address("::FFFF:10.1.2.3"), ipv6Socket: false) == address("10.1.2.3"))
    }

    @Test func ipv4BecomesMappedForADualStackSocket() {
        #expect(GossipAddressing.matching(address("192.0.2.7", 1), ipv6Socket: true) == address("::ffff:192.0.2.7", 1))
    }

    @Test func addressesOfTheSocketsFamilyAreUnchanged() {
        for (ip, ipv6) in [("192.0.2.7", false), ("2001:db8::1", true), ("::ffff:192.0.2.7", true), ("::1", true)] {
            #expect(GossipAddressing.matching(address(ip), ipv6Socket: ipv6) == address(ip))
        }
    }

    /// Real IPv6 cannot leave an IPv4 socket, and must not be mangled into something that can.
    @Test func realIPv6FromAnIPv4SocketIsUnreachable() {
        for ip in ["2001:db8::1", "::1", "fd00::ffff:1.2.3.4", "::ffff:0:1.2.3.4"] {
            #expect(GossipAddressing.matching(address(ip), ipv6Socket: false) == nil, "\(ip)")
        }
    }
}
