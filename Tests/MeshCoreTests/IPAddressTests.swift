import Testing

@testable import MeshCore

@Suite struct IPAddressTests {
    @Test(arguments: [
        ("0.0.0.0", UInt32(0)), ("255.255.255.255", UInt32.max), ("10.1.2.3", UInt32(0x0A01_0203)),
        ("192.168.0.10", UInt32(0xC0A8_000A)),
    ])
    func parsesIPv4(_ text: String, _ value: UInt32) throws {
        let address = try #require(IPv4Address(text))
        #expect(address.value == value)
        #expect(address.description == text)
    }

    @Test(arguments: [
        "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.04", "1..2.3", "1.2.3.4 ", "a.b.c.d",
        "1.2.3.-4", "0x1.2.3.4", "1.2.3.4/8", "1234.1.1.1",
    ])
    func rejectsBadIPv4(_ text: String) {
        #expect(IPv4Address(text) == nil)
    }

    /// Canonical output per RFC 5952, from varied input spellings.
    @Test(arguments: [
        ("::", "::"), ("::1", "::1"), ("2001:DB8::1", "2001:db8::1"),
        ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"), ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"), ("fe80::1:2", "fe80::1:2"),
        ("2001:db8::", "2001:db8::"), ("1:0:0:2:0:0:0:3", "1:0:0:2::3"), ("::ffff:192.0.2.1", "::ffff:192.0.2.1"),
        ("::ffff:c000:0201", "::ffff:192.0.2.1"), ("64:ff9b::192.0.2.33", "64:ff9b::c000:221"),
        ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"), ("0:0:0:0:0:0:0:0", "::"), ("1::", "1::"),
    ])
    func formatsIPv6Canonically(_ input: String, _ canonical: String) throws {
        let address = try #require(IPv6Address(input))
        #expect(address.description == canonical)
        #expect(IPv6Address(canonical) == address)
    }

    @Test(arguments: [
        "", ":", ":::", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", "g::1", ":1::", "1::2:",
        "fe80::1%eth0", "::ffff:1.2.3", "1:2:3:4:5:6:7::8", "::1.2.3.4:5", "[::1]", "1:2:3:4:5:6:1.2.3.4:8",
    ])
    func rejectsBadIPv6(_ text: String) {
        #expect(IPv6Address(text) == nil)
    }

    @Test func ipv6BytesRoundTrip() throws {
        let address = try #require(IPv6Address("2001:db8:1:2:3:4:5:6"))
        #expect(IPv6Address(bytes: address.bytes) == address)
        #expect(address.bytes.count == 16)
        #expect(address.bytes[0] == 0x20 && address.bytes[15] == 6)
        #expect(IPv6Address(bytes: [UInt8](repeating: 0, count: 15)) == nil)
    }

    @Test func prefixesRequireZeroHostBits() throws {
        #expect(IPPrefix("10.1.0.0/16")?.description == "10.1.0.0/16")
        #expect(IPPrefix("10.1.0.1/16") == nil)
        #expect(IPPrefix("fd00::/8")?.description == "fd00::/8")
        #expect(IPPrefix("fd00::1/64") == nil)
        #expect(IPPrefix("::/0") == IPPrefix.ipv6Default)
        #expect(IPPrefix("0.0.0.0/0") == IPPrefix.ipv4Default)
        #expect(IPPrefix("10.0.0.0/33") == nil)
        #expect(IPPrefix("::/129") == nil)
        #expect(IPPrefix("10.0.0.0/08") == nil)
        #expect(IPPrefix("10.0.0.0") == nil)
        #expect(IPPrefix("10.0.0.0/") == nil)
        #expect(IPPrefix("10.0.0.0/-1") == nil)
        #expect(IPPrefix("1.2.3.4/32")?.length == 32)
        #expect(IPPrefix("::1/128")?.length == 128)
        let masked = try #require(IPPrefix(containing: .v6(IPv6Address("2001:db8:1:2:3::9")!), length: 60))
        #expect(masked.description == "2001:db8:1::/60")
    }

    @Test func prefixContainment() throws {
        let site = try #require(IPPrefix("fd12:3456:789a::/48"))
        #expect(site.covers(IPPrefix("fd12:3456:789a:1::/64")!))
        #expect(site.covers(site))
        #expect(!site.covers(IPPrefix("fd12:3456::/32")!))
        #expect(!site.covers(IPPrefix("fd12:3456:789b::/64")!))
        #expect(!site.covers(IPPrefix("10.0.0.0/8")!))
        #expect(IPPrefix("10.0.0.0/8")!.contains(.v4(IPv4Address("10.255.1.1")!)))
        #expect(!IPPrefix("10.0.0.0/8")!.contains(.v4(IPv4Address("11.0.0.0")!)))
        #expect(IPPrefix.ipv4Default.covers(IPPrefix("8.8.8.8/32")!))
        #expect(IPPrefix("2001:db8::/127")!.contains(.v6(IPv6Address("2001:db8::1")!)))
        #expect(!IPPrefix("2001:db8::/128")!.contains(.v6(IPv6Address("2001:db8::1")!)))
    }

    @Test(arguments: [
        ("1.2.3.4:51820", "1.2.3.4:51820"), ("[2001:DB8::1]:51820", "[2001:db8::1]:51820"),
        ("[::ffff:1.2.3.4]:1", "[::ffff:1.2.3.4]:1"), ("VPN.Example.com:65535", "vpn.example.com:65535"),
        ("localhost:7", "localhost:7"),
    ])
    func parsesEndpoints(_ input: String, _ canonical: String) throws {
        let endpoint = try #require(Endpoint(input))
        #expect(endpoint.description == canonical)
        #expect(Endpoint(canonical) == endpoint)
    }

    @Test(arguments: [
        "", "1.2.3.4", "1.2.3.4:0", "1.2.3.4:65536", "1.2.3.4:051820", "2001:db8::1:51820", "[2001:db8::1]",
        "[2001:db8::1]51820", "[2001:db8::1]:", "[1.2.3.4]:80", "host:port", "-bad.example:1", "a..b:1",
        "10.0.0.256:1", "1.2.3.4:+80", "[fe80::1%eth0]:1", "exa mple.com:1", "x:1:2",
    ])
    func rejectsBadEndpoints(_ text: String) {
        #expect(Endpoint(text) == nil)
    }

    @Test func dnsNameRules() {
        #expect(DNSName.isValid("a.example"))
        #expect(DNSName.isValid(String(repeating: "a", count: 63)))
        #expect(!DNSName.isValid(String(repeating: "a", count: 64)))
        #expect(!DNSName.isValid(Array(repeating: String(repeating: "a", count: 63), count: 4).joined(separator: ".")))
        #expect(!DNSName.isValid("Upper.example"))
        #expect(!DNSName.isValid("a.-b"))
        #expect(!DNSName.isValid("a.b-"))
        #expect(!DNSName.isValid("1.2.3.4"))
        #expect(!DNSName.isValid("example."))
    }
}
