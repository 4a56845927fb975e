import Foundation
import MeshCore
import Testing

@Suite struct WireGuardUAPITests {
    typealias F = WireGuardFixtures

    @Test func setRequestUsesHexKeysAndEndsWithABlankLine() {
        var peer = WireGuardPeerUpdate.add(
            F.peer(2, endpoint: "[fd00::2]:51820", allowed: ["fd00::2/128"], keepalive: 25))
        peer.presharedKey = F.key(3)
        let update = WireGuardDeviceUpdate(
            privateKey: F.key(1), listenPort: 51820, fwmark: 7, peers: [peer, .removal(F.key(4))])
        let expected = """
            set=1
            private_key=\(String(repeating: "01", count: 32))
            listen_port=51820
            fwmark=7
            public_key=\(String(repeating: "02", count: 32))
            preshared_key=\(String(repeating: "03", count: 32))
            endpoint=[fd00::2]:51820
            persistent_keepalive_interval=25
            replace_allowed_ips=true
            allowed_ip=fd00::2/128
            public_key=\(String(repeating: "04", count: 32))
            remove=true


            """
        #expect(WireGuardUAPI.setRequest(update) == expected)
    }

    @Test func updateOnlyAndAddedAllowedIPs() {
        let change = WireGuardPeerUpdate(
            publicKey: F.key(0xab), updateOnly: true, allowedIPs: [F.net("10.0.0.0/8")])
        let text = WireGuardUAPI.setRequest(WireGuardDeviceUpdate(peers: [change]))
        #expect(
            text
                == "set=1\npublic_key=\(String(repeating: "ab", count: 32))\nupdate_only=true\nallowed_ip=10.0.0.0/8\n\n"
        )
    }

    @Test func parsesAGetResponseWithStatistics() throws {
        let privateKey = try WireGuardKey.generatePrivate()
        let response = """
            private_key=\(privateKey.hex)
            listen_port=51820
            fwmark=0
            public_key=\(String(repeating: "02", count: 32))
            preshared_key=\(String(repeating: "00", count: 32))
            protocol_version=1
            endpoint=[fd00:aa::2]:51820
            last_handshake_time_sec=1700000000
            last_handshake_time_nsec=500000000
            tx_bytes=148
            rx_bytes=92
            persistent_keepalive_interval=25
            allowed_ip=fd00:bb::2/128
            allowed_ip=10.9.0.2/32
            public_key=\(String(repeating: "03", count: 32))
            endpoint=192.0.2.1:4000
            allowed_ip=fd00:bb::3/128
            errno=0


            """
        let device = try WireGuardUAPI.parseDevice(response, name: "wg0")
        #expect(device.privateKey == privateKey)
        #expect(device.publicKey == (try privateKey.publicKey()))
        #expect(device.listenPort == 51820)
        #expect(device.peers.count == 2)
        let first = device.peers[0]
        #expect(first.publicKey == F.key(2))
        #expect(first.presharedKey == nil)
        #expect(first.endpoint == F.endpoint("[fd00:aa::2]:51820"))
        #expect(first.allowedIPs == [F.net("fd00:bb::2/128"), F.net("10.9.0.2/32")])
        #expect(first.persistentKeepalive == 25)
        #expect(first.rxBytes == 92 && first.txBytes == 148)
        #expect(first.lastHandshake == 1_700_000_000.5)
        #expect(device.peers[1].lastHandshake == nil)
        #expect(device.peers[1].endpoint == F.endpoint("192.0.2.1:4000"))
    }

    @Test func anErrorResponseThrowsItsErrno() {
        #expect(throws: WireGuardError.uapi(operation: "get device wg0", errno: 19)) {
            try WireGuardUAPI.parseDevice("errno=19\n\n", name: "wg0")
        }
        #expect(WireGuardUAPI.responseErrno("errno=0\n\n") == 0)
        #expect(WireGuardUAPI.responseErrno("errno=22\n") == nil)
    }

    @Test(arguments: ["allowed_ip=nonsense", "public_key=zz", "endpoint", "listen_port=70000", "rx_bytes=-1"])
    func malformedLinesAreRejected(line: String) {
        let response = "public_key=\(String(repeating: "02", count: 32))\n\(line)\nerrno=0\n\n"
        #expect(throws: WireGuardError.self) { try WireGuardUAPI.parseDevice(response, name: "wg0") }
    }

    @Test func formattingRoundTripsThroughTheParser() throws {
        let peers = [
            F.peer(2, endpoint: "[fd00::2]:1", allowed: ["fd00::2/128", "10.0.0.2/32"], keepalive: 5),
            F.peer(3, endpoint: "10.1.1.1:51820", allowed: []),
        ]
        let update = WireGuardDeviceUpdate(
            privateKey: F.key(9), listenPort: 4, peers: peers.map(WireGuardPeerUpdate.add))
        // A set request and a get response share the key=value vocabulary.
        let asResponse = WireGuardUAPI.setRequest(update).replacingOccurrences(of: "set=1\n", with: "")
            .replacingOccurrences(of: "replace_allowed_ips=true\n", with: "")
        let device = try WireGuardUAPI.parseDevice(asResponse.dropLast() + "errno=0\n\n", name: "wg0")
        #expect(device.peers == peers)
        #expect(device.listenPort == 4)
    }
}

@Suite struct WireGuardKeyTests {
    @Test func base64AndHexRoundTrip() throws {
        let key = try WireGuardKey.generatePrivate()
        #expect(key.base64.count == 44)
        #expect(WireGuardKey(base64: key.base64) == key)
        #expect(WireGuardKey(hex: key.hex) == key)
        #expect(WireGuardKey(hex: key.hex.uppercased()) == key)
        #expect(WireGuardKey(base64: "short") == nil)
        #expect(WireGuardKey(hex: String(repeating: "g", count: 64)) == nil)
    }

    @Test func publicKeyMatchesRFC7748() throws {
        // RFC 7748 section 6.1: Alice's private and public key.
        let alice = WireGuardKey(hex: "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")!
        #expect(try alice.publicKey().hex == "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
    }

    @Test func endpointsParseBothFamilies() {
        #expect(WireGuardEndpoint("[fd00::1]:51820")?.description == "[fd00::1]:51820")
        #expect(WireGuardEndpoint("192.0.2.1:7")?.port == 7)
        #expect(WireGuardEndpoint("fd00::1:51820") == nil)
        #expect(WireGuardEndpoint("[fe80::1%eth0]:1") == nil)
        #expect(WireGuardEndpoint("host.example:1") == nil)
    }
}
