import MeshCore
import MeshLinux
import Testing

/// The set-device encoder's split messages, decoded again with the get-device decoder (the
/// attribute layout is the same both ways), must add up to exactly the requested update.
@Suite struct WireGuardNetlinkCodecTests {
    typealias F = WireGuardFixtures
    let family: UInt16 = 0x1c

    func decode(_ messages: [NetlinkMessageBuilder]) -> WireGuardDevice {
        var device = WireGuardDevice(name: "")
        for message in messages { WireGuardNetlinkCodec.mergeDeviceMessage(bytes: message.bytes, into: &device) }
        return device
    }

    func manyPeers(_ count: Int) -> [WireGuardPeer] {
        (0..<count).map { index in
            WireGuardPeer(
                publicKey: WireGuardKey(bytes: (0..<32).map { UInt8(truncatingIfNeeded: index &* 7 &+ $0) })!,
                endpoint: index % 2 == 0
                    ? F.endpoint("[fd00::\(index)]:51820") : F.endpoint("10.0.\(index / 256).\(index % 256):1"),
                allowedIPs: [F.net("fd00:1::\(index)/128"), F.net("10.1.\(index / 256).\(index % 256)/32")],
                persistentKeepalive: 25)
        }
    }

    @Test func aSmallUpdateIsOneMessageWithTheDeviceFields() {
        let update = WireGuardDeviceUpdate(
            privateKey: F.key(1), listenPort: 51820, fwmark: 3, peers: [.add(F.peer(2, allowed: ["fd00::2/128"]))])
        let messages = try! WireGuardNetlinkCodec.setDeviceMessages(update, interface: "wg0", family: family)
        #expect(messages.count == 1)
        #expect(messages[0].header.pointee.nlmsg_type == family)
        let device = decode(messages)
        #expect(device.name == "wg0")
        #expect(device.privateKey == F.key(1))
        #expect(device.listenPort == 51820)
        #expect(device.fwmark == 3)
        #expect(device.peers == [F.peer(2, allowed: ["fd00::2/128"])])
    }

    @Test func aThousandPeersSplitAcrossMessagesAndReassemble() throws {
        let peers = manyPeers(1000)
        let update = WireGuardDeviceUpdate(privateKey: F.key(1), peers: peers.map(WireGuardPeerUpdate.add))
        let messages = try WireGuardNetlinkCodec.setDeviceMessages(
            update, interface: "wg0", family: family, capacity: 8192)
        #expect(messages.count > 10)
        #expect(messages.allSatisfy { $0.length <= 8192 })
        // Device-wide fields travel only in the first message.
        #expect(decode([messages[1]]).privateKey == nil)
        #expect(decode(messages).peers == peers)
    }

    @Test func oversizedAllowedIPListsContinueInTheNextMessage() throws {
        let prefixes = (0..<1500).map { F.net("fd00:\(String($0, radix: 16))::/64") }
        let big = WireGuardPeer(publicKey: F.key(5), allowedIPs: prefixes)
        let update = WireGuardDeviceUpdate(peers: [
            .add(F.peer(4)), .add(big), .add(F.peer(6, allowed: ["10.0.0.6/32"])),
        ])
        let messages = try WireGuardNetlinkCodec.setDeviceMessages(
            update, interface: "wg0", family: family, capacity: 4096)
        #expect(messages.count >= 10)
        let device = decode(messages)
        #expect(device.peers.map(\.publicKey) == [F.key(4), F.key(5), F.key(6)])
        #expect(device.peers[1].allowedIPs == prefixes)
        #expect(device.peers[2].allowedIPs == [F.net("10.0.0.6/32")])
    }

    @Test func aPeerThatCannotFitAnywhereIsAnError() {
        let update = WireGuardDeviceUpdate(peers: [.add(F.peer(2, allowed: ["fd00::2/128"]))])
        #expect(throws: NetlinkError.self) {
            try WireGuardNetlinkCodec.setDeviceMessages(update, interface: "wg0", family: family, capacity: 64)
        }
    }

    @Test func anEmptyUpdateIsOneHarmlessMessage() throws {
        let messages = try WireGuardNetlinkCodec.setDeviceMessages(
            WireGuardDeviceUpdate(), interface: "wg0", family: family)
        #expect(messages.count == 1)
        #expect(decode(messages) == WireGuardDevice(name: "wg0"))
    }
}
