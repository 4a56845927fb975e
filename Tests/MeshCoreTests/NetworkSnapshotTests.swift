import Testing

@testable import MeshCore
@testable import MeshLinux

/// What the link monitor counts as a change of the host's network (`NetworkSnapshot`): the
/// messages rtnetlink sends are only a prompt; the dumps before and after decide.
@Suite struct NetworkSnapshotTests {
    func link(_ index: Int32, _ name: String, up: Bool = true, kind: String? = nil) -> LinkInfo {
        LinkInfo(index: index, name: name, mtu: 1500, isUp: up, kind: kind, isRunning: up)
    }

    func address(_ index: Int32, _ text: String) -> InterfaceAddress {
        InterfaceAddress(linkIndex: index, prefix: IPNet(text)!, flags: 0)
    }

    func defaultRoute(via gateway: [UInt8], link: Int32, proto: UInt8 = 3) -> RouteEntry {
        RouteEntry(destination: IPNet("0.0.0.0/0")!, gateway: gateway, linkIndex: link, proto: proto)
    }

    /// The laptop at home: eth0 with an address and a default route; lo and the mesh interface.
    var home: NetworkSnapshot {
        NetworkSnapshot(
            links: [
                link(1, "lo"), link(2, "eth0"), link(3, "eth1", up: false), link(9, "smegabcdefgh", kind: "wireguard"),
            ],
            addresses: [
                address(1, "127.0.0.1/8"), address(2, "192.168.11.2/24"), address(2, "fe80::1/64"),
                address(9, "fd5e:1::1/64"),
            ],
            routes: [
                defaultRoute(via: [192, 168, 11, 1], link: 2),
                RouteEntry(destination: IPNet("192.168.11.0/24")!, linkIndex: 2, proto: 2),
                RouteEntry(destination: IPNet("fd5e:1::/64")!, linkIndex: 9),
            ])
    }

    @Test func theMeshLoopbackLinkLocalAndOtherRoutesAreLeftOut() {
        let snapshot = home
        #expect(snapshot.links.map(\.name).sorted() == ["eth0", "eth1"])
        #expect(snapshot.addresses == [NetworkSnapshot.Address(link: "eth0", prefix: IPNet("192.168.11.2/24")!)])
        #expect(snapshot.defaultRoutes.count == 1)
        #expect(snapshot.differences(from: snapshot).isEmpty)
    }

    /// What roaming-test.sh does to the laptop: the old link's address flushed and the link
    /// down, the other one up with a new address and default route.
    @Test func movingToAnotherNetworkIsOneChange() {
        let moved = NetworkSnapshot(
            links: [
                link(1, "lo"), link(2, "eth0", up: false), link(3, "eth1"), link(9, "smegabcdefgh", kind: "wireguard"),
            ],
            addresses: [address(1, "127.0.0.1/8"), address(3, "192.168.12.2/24"), address(9, "fd5e:1::1/64")],
            routes: [defaultRoute(via: [192, 168, 12, 1], link: 3)])
        let changes = moved.differences(from: home)
        #expect(
            changes == [
                "eth0 down", "eth1 up", "192.168.12.2/24 added on eth1", "192.168.11.2/24 removed from eth0",
                "default route via 192.168.12.1 dev eth1 added", "default route via 192.168.11.1 dev eth0 removed",
            ])
        #expect(NetworkSnapshot.summary(changes).hasSuffix("and 2 more"))
    }

    /// The mesh's own reconciles (addresses and routes on its interface, an exit's default route
    /// through it) and a refreshed lifetime (the same address again) change nothing.
    @Test func theMeshsOwnChangesAreNotChanges() {
        let reconciled = NetworkSnapshot(
            links: [
                link(1, "lo"), link(2, "eth0"), link(3, "eth1", up: false), link(9, "smegabcdefgh", kind: "wireguard"),
            ],
            addresses: [
                address(1, "127.0.0.1/8"), address(2, "192.168.11.2/24"), address(2, "fe80::1/64"),
                address(9, "fd5e:1::1/64"), address(9, "100.64.3.4/32"),
            ],
            routes: [
                defaultRoute(via: [192, 168, 11, 1], link: 2),
                RouteEntry(destination: IPNet("0.0.0.0/0")!, linkIndex: 9, table: 51820),
                RouteEntry(destination: IPNet("10.5.0.0/16")!, linkIndex: 9),
            ])
        #expect(reconciled.differences(from: home).isEmpty)
    }

    @Test func aLinkLosingCarrierIsAChange() {
        var links = [link(1, "lo"), link(2, "eth0"), link(3, "eth1", up: false)]
        links[1].isRunning = false
        let unplugged = NetworkSnapshot(
            links: links, addresses: [address(2, "192.168.11.2/24")],
            routes: [defaultRoute(via: [192, 168, 11, 1], link: 2)])
        #expect(unplugged.differences(from: home) == ["eth0 up without carrier"])
    }
}
